"""Checklists over HTTP: the list, the current version (with ETag), old versions, uploads."""

from flask import request
from flask.views import MethodView
from flask_login import current_user
from flask_smorest import Blueprint
from marshmallow import ValidationError
from sqlalchemy import select

from supervision.checklists.loader import decode_upload
from supervision.checklists.models import Checklist
from supervision.checklists.schemas_api import (
    ChecklistSummarySchema,
    ChecklistUploadSchema,
    ChecklistVersionSchema,
)
from supervision.checklists.services import add_version, current_version, get_version
from supervision.db import db
from supervision.errors import Invalid
from supervision.scoping import roles_required
from supervision.scoring.rules import RULES, scoring_rules

blp = Blueprint("checklists", __name__, url_prefix="/api/v1", description="Checklists")

YAML_TYPES = {"application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml", "text/plain"}


def version_document(version) -> dict:
    return {
        "slug": version.checklist.slug,
        "version": version.version,
        "content_hash": version.content_hash,
        "kind": version.checklist.kind,
        "retired": version.checklist.retired_at is not None,
        "created_at": version.created_at,
        "definition": version.definition,
        # The engine's policy travels with the definition: the tablet's estimate uses it as is.
        "scoring": scoring_rules(),
    }


def _conditional(version, status=200):
    """The version as JSON with an ETag; a matching If-None-Match gets 304."""
    from flask import jsonify

    response = jsonify(ChecklistVersionSchema().dump(version_document(version)))
    response.status_code = status
    response.set_etag(f"{version.checklist.slug}-v{version.version}-{version.content_hash[:16]}"
                      f"-s{RULES['version']}")
    response.headers["Cache-Control"] = "private, no-cache"
    return response.make_conditional(request)


@blp.route("/checklists")
class ChecklistsView(MethodView):
    @blp.response(200, ChecklistSummarySchema(many=True))
    def get(self):
        """Every checklist with its current version."""
        checklists = db.session.scalars(select(Checklist).order_by(Checklist.slug))
        return [
            {"slug": c.slug, "version": c.versions[-1].version, "title": c.versions[-1].title,
             "kind": c.kind, "retired": c.retired_at is not None,
             "scoring_version": RULES["version"]}
            for c in checklists if c.versions
        ]

    @roles_required("admin")
    @blp.doc(requestBody={"content": {"application/yaml": {"schema": {"type": "string"}},
                                      "application/json": {"schema": ChecklistUploadSchema}}})
    @blp.response(201, ChecklistVersionSchema)
    def post(self):
        """Upload a checklist as YAML, validated like the files; new content is a new version."""
        text, source = _uploaded_yaml()
        version, created = add_version(text, source, actor=current_user)
        db.session.commit()
        return _conditional(version, 201 if created else 200)


SOURCE_MAX = 255  # checklist_versions.source


def _uploaded_yaml() -> tuple[str, str]:
    if request.mimetype in YAML_TYPES:
        source = request.args.get("source", "upload.yaml")
        if len(source) > SOURCE_MAX:
            raise Invalid("The source name is too long.",
                          {"query": {"source": [f"At most {SOURCE_MAX} characters."]}})
        return decode_upload(request.get_data()), source
    if request.is_json:
        try:
            body = ChecklistUploadSchema().load(request.get_json())
        except ValidationError as error:
            raise Invalid("The upload is not valid.", {"json": error.messages}) from error
        return body["yaml"], body["source"]
    raise Invalid("Send the checklist as YAML (Content-Type: application/yaml) or as JSON "
                  '{"yaml": "...", "source": "name.yaml"}.', {"json": {"yaml": ["Missing."]}})


@blp.route("/checklists/<slug>")
class ChecklistView(MethodView):
    @blp.response(200, ChecklistVersionSchema)
    def get(self, slug):
        """The current version, whole. Sends an ETag; If-None-Match answers 304."""
        return _conditional(current_version(slug))


@blp.route("/checklists/<slug>/versions/<int:number>")
class ChecklistVersionView(MethodView):
    @blp.response(200, ChecklistVersionSchema)
    def get(self, slug, number):
        """An older version, unchanged forever."""
        return _conditional(get_version(slug, number))
