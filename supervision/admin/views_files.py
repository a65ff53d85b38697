"""Admin pages for checklists (upload, preview, history, diff, retire), imports, exports, audit."""

import marshmallow as ma
from flask import current_app, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from supervision.admin import services, uploads, versions
from supervision.admin.api import export_response, export_zone
from supervision.admin.exports import EXPORTS, period_bounds
from supervision.admin.imports import IMPORTERS, import_file
from supervision.admin.schemas import AuditQueryArgsSchema, PeriodQueryArgsSchema
from supervision.admin.views import admin_only, blp, page_roles, render, whole
from supervision.checklists.loader import decode_upload
from supervision.checklists.models import Checklist
from supervision.checklists.services import add_version, definition_of, get_version
from supervision.db import db
from supervision.errors import DomainError, Invalid

# Checklists


@blp.route("/checklists", methods=["GET", "POST"])
@admin_only
def checklists():
    problems = []
    if request.method == "POST":
        text, source = _uploaded_checklist()
        try:
            version, created = add_version(text, source, actor=current_user)
        except DomainError as error:
            db.session.rollback()
            problems = (error.errors or {}).get("yaml") or [error.message]
        else:
            db.session.commit()
            slug = version.checklist.slug
            flash(_("Version %(n)s of %(slug)s saved.", n=version.version, slug=slug) if created
                  else _("Same content as version %(n)s of %(slug)s: nothing changed.",
                         n=version.version, slug=slug), "success")
            return redirect(url_for("admin.checklist", slug=slug))
    listed = db.session.scalars(select(Checklist).order_by(Checklist.slug)).all()
    return render("checklists.html", checklists=listed, problems=problems,
                  pasted=request.form.get("yaml", "")), 422 if problems else 200


def _uploaded_checklist() -> tuple[str, str]:
    upload = request.files.get("file")
    if upload and upload.filename:  # the name is a note on the version, of 255 at most
        return decode_upload(upload.read()), upload.filename[:255]
    return request.form.get("yaml", ""), "pasted.yaml"


@blp.get("/checklists/<slug>")
@admin_only
def checklist(slug):
    found = versions.get_checklist(slug)
    history = versions.version_history(slug)
    return render("checklist.html", checklist=found, history=history)


@blp.get("/checklists/<slug>/v/<int:number>")
@admin_only
def checklist_preview(slug, number):
    version = get_version(slug, number)
    return render("checklist_preview.html", version=version, definition=definition_of(version))


@blp.get("/checklists/<slug>/diff")
@admin_only
def checklist_diff(slug):
    old, new = request.args.get("from", type=whole), request.args.get("to", type=whole)
    if old is None or new is None:
        raise Invalid(_("Choose two versions to compare."))
    diff = versions.diff_versions(slug, old, new)
    return render("checklist_diff.html", diff=diff, slug=slug)


@blp.post("/checklists/<slug>/retire")
@admin_only
def checklist_retire(slug):
    retire = request.form.get("retired") == "true"
    services.set_retired(slug, retire, current_user)
    db.session.commit()
    flash(_("Checklist retired: no new visit can use it.") if retire
          else _("Checklist back in use."), "success")
    return redirect(url_for("admin.checklist", slug=slug))


# Imports


@blp.route("/imports", methods=["GET", "POST"])
@admin_only
def imports():
    kind = request.values.get("kind", "stores")
    if kind not in IMPORTERS:
        kind = "stores"
    report, token, name = None, None, ""
    if request.method == "POST":
        upload = request.files.get("file")
        if upload is None or not upload.filename:
            flash(_("Choose a CSV or XLSX file."), "error")
            return redirect(url_for("admin.imports", kind=kind))
        data, name = upload.read(), upload.filename
        report = _checked(kind, data, name)
        if report is not None and not report.problems:
            token = uploads.keep(data)
    failed = report is not None and bool(report.problems)
    return render("imports.html", kind=kind, report=report, token=token, name=name,
                  columns=column_labels(kind)), 422 if failed else 200


def column_labels(kind: str) -> list[tuple[str, str, bool]]:
    """(English name, Chinese name, required) of each column an import accepts."""
    columns, required = IMPORTERS[kind][:2]
    return [(column, next(a for a in spellings if not a.isascii()), column in required)
            for column, spellings in columns.items()]


def _checked(kind: str, data: bytes, name: str):
    try:
        return import_file(kind, data, name, True, current_user)
    except DomainError as error:
        flash(error.message, "error")
        return None


@blp.post("/imports/apply")
@admin_only
def imports_apply():
    kind, token, name = (request.form.get(key, "") for key in ("kind", "token", "name"))
    data = uploads.kept(token)
    if kind not in IMPORTERS or data is None:
        flash(_("The checked file is no longer here: upload it again."), "error")
        return redirect(url_for("admin.imports", kind=kind))
    report = import_file(kind, data, name, False, current_user)
    if report.problems:  # the database changed since the dry run
        db.session.rollback()
        return render("imports.html", kind=kind, report=report, token=None, name=name,
                      columns=column_labels(kind)), 422
    db.session.commit()
    uploads.discard(token)
    flash(_("Imported: %(created)s created, %(updated)s updated, %(unchanged)s unchanged.",
            created=report.created, updated=report.updated, unchanged=report.unchanged),
          "success")
    return redirect(url_for("admin.users" if kind == "users" else "admin.stores"))


@blp.get("/imports/template/<kind>.csv")
@admin_only
def import_template(kind):
    if kind not in IMPORTERS:
        raise Invalid(_("Nothing to import as %(kind)s.", kind=kind))
    header = ",".join(f"{english}/{chinese}" for english, chinese, _required in column_labels(kind))
    return current_app.response_class("\ufeff" + header + "\r\n", mimetype="text/csv",
                                      headers={"Content-Disposition":
                                               f'attachment; filename="{kind}-template.csv"'})


# Exports and audit


@blp.get("/exports")
@page_roles("admin", "manager")
def exports():
    if request.args.get("what") in EXPORTS:
        fmt = request.args.get("fmt") if request.args.get("fmt") in ("csv", "xlsx") else "csv"
        period = _query_args()
        return export_response(request.args["what"], fmt, period["from_"], period["to"])
    return render("exports.html", exports=EXPORTS, zone=export_zone())


def _query_args(schema: type[ma.Schema] = PeriodQueryArgsSchema, keys=("from", "to")) -> dict:
    """`keys` of the page's query as the API reads them (empty fields left out): by default
    the period, `from` and `to`."""
    given = {key: request.args[key].strip() for key in keys if request.args.get(key, "").strip()}
    try:
        return schema().load(given)
    except ma.ValidationError as error:
        raise Invalid("", {"query": error.messages}) from error


@blp.get("/audit")
@admin_only
def audit():
    filters = {key: request.args.get(key, "").strip() or None
               for key in ("user", "entity", "action", "from", "to")}
    page = request.args.get("page", 1, type=whole)
    args = _query_args(AuditQueryArgsSchema, ("user", "entity", "action", "from", "to"))
    start, end = period_bounds(args["from_"], args["to"], export_zone())
    found = services.audit_page(args, start, end, 50, (page - 1) * 50)
    pager_args = {key: value for key, value in filters.items() if value}
    return render("audit.html", filters=filters, found=found, page_no=page, pager_args=pager_args,
                  pages=max(1, -(-found["total"] // 50)), entities=services.audit_entities())
