"""Admin JSON endpoints: regions, stores, users, imports, audit, checklist history; exports."""

from datetime import date

from flask import Response, stream_with_context
from flask.views import MethodView
from flask_login import current_user
from flask_smorest import Blueprint

from supervision.accounts.models import User
from supervision.admin import exports, services, versions
from supervision.admin.imports import import_file
from supervision.admin.schemas import (
    AdminRegionSchema,
    AdminStoreSchema,
    AdminUserSchema,
    AuditPageSchema,
    AuditQueryArgsSchema,
    ChecklistStateSchema,
    DiffQueryArgsSchema,
    ImportFileSchema,
    ImportQueryArgsSchema,
    ImportReportSchema,
    PasswordResetResultSchema,
    PasswordResetSchema,
    PeriodQueryArgsSchema,
    RegionCreateSchema,
    RegionUpdateSchema,
    StoreCreateSchema,
    StoreQueryArgsSchema,
    StoreUpdateSchema,
    UserCreateSchema,
    UserUpdateSchema,
    VersionDiffSchema,
    VersionSummarySchema,
)
from supervision.db import db
from supervision.errors import Invalid
from supervision.localtime import local_zone
from supervision.scoping import roles_required
from supervision.stores.models import Store

blp = Blueprint("admin_api", __name__, url_prefix="/api/v1", description="Administration")
ADMIN = [roles_required("admin")]
MIMETYPES = {"csv": "text/csv; charset=utf-8",
             "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def export_zone() -> str:
    """Days in exports and their filters are days of the TIMEZONE setting (stores differ)."""
    return local_zone()


@blp.route("/admin/regions")
class RegionsView(MethodView):
    decorators = ADMIN

    @blp.response(200, AdminRegionSchema(many=True))
    def get(self):
        """Every region."""
        return services.list_regions()

    @blp.arguments(RegionCreateSchema)
    @blp.response(201, AdminRegionSchema)
    def post(self, values):
        """Create a region."""
        region = services.create_region(values, current_user)
        db.session.commit()
        return region


@blp.route("/admin/regions/<int:region_id>")
class RegionView(MethodView):
    decorators = ADMIN

    @blp.arguments(RegionUpdateSchema(partial=True))
    @blp.response(200, AdminRegionSchema)
    def patch(self, values, region_id):
        """Change a region's code or names."""
        region = services.update_region(region_id, values, current_user)
        db.session.commit()
        return region


@blp.route("/admin/stores")
class StoresView(MethodView):
    decorators = ADMIN

    @blp.arguments(StoreQueryArgsSchema, location="query")
    @blp.response(200, AdminStoreSchema(many=True))
    def get(self, args):
        """Every store, or those matching a search."""
        return db.session.scalars(services.search_stores(args["q"], args["region_id"])).all()

    @blp.arguments(StoreCreateSchema)
    @blp.response(201, AdminStoreSchema)
    def post(self, values):
        """Create a store."""
        store = services.create_store(values, current_user)
        db.session.commit()
        return store


@blp.route("/admin/stores/<int:store_id>")
class StoreView(MethodView):
    decorators = ADMIN

    @blp.response(200, AdminStoreSchema)
    def get(self, store_id):
        """One store."""
        return services.get_or_404(Store, store_id, "Store")

    @blp.arguments(StoreUpdateSchema(partial=True))
    @blp.response(200, AdminStoreSchema)
    def patch(self, values, store_id):
        """Change a store: code, names, address, location, geofence, time zone, active."""
        store = services.update_store(store_id, values, current_user)
        db.session.commit()
        return store


@blp.route("/admin/users")
class UsersView(MethodView):
    decorators = ADMIN

    @blp.response(200, AdminUserSchema(many=True))
    def get(self):
        """Every user account."""
        return db.session.scalars(services.search_users()).all()

    @blp.arguments(UserCreateSchema)
    @blp.response(201, AdminUserSchema)
    def post(self, values):
        """Create a user account."""
        user = services.create_user(values, current_user)
        db.session.commit()
        return user


@blp.route("/admin/users/<int:user_id>")
class UserView(MethodView):
    decorators = ADMIN

    @blp.response(200, AdminUserSchema)
    def get(self, user_id):
        """One user account."""
        return services.get_or_404(User, user_id, "User")

    @blp.arguments(UserUpdateSchema(partial=True))
    @blp.response(200, AdminUserSchema)
    def patch(self, values, user_id):
        """Change a user: name, e-mail, role, regions, active or not."""
        user = services.update_user(user_id, values, current_user)
        db.session.commit()
        return user


@blp.route("/admin/users/<int:user_id>/password")
class PasswordView(MethodView):
    decorators = ADMIN

    @blp.arguments(PasswordResetSchema)
    @blp.response(200, PasswordResetResultSchema)
    def post(self, values, user_id):
        """Reset a password (random when none is given); the user's tokens stop working."""
        password = services.reset_password(user_id, values["password"], current_user)
        db.session.commit()
        return {"password": password}


@blp.route("/admin/imports/<kind>")
class ImportView(MethodView):
    decorators = ADMIN

    @blp.arguments(ImportQueryArgsSchema, location="query")
    @blp.arguments(ImportFileSchema, location="files")
    @blp.response(200, ImportReportSchema)
    def post(self, args, files, kind):
        """Import stores or users from CSV/XLSX; dry_run=1 only checks. All rows or none."""
        upload = files["file"]
        report = import_file(kind, upload.read(), upload.filename or "", args["dry_run"],
                             current_user)
        if report.problems and not args["dry_run"]:
            raise Invalid(f"The file has {len(report.problems)} problems; nothing was imported.",
                          {"files": {"rows": report.problems}})
        db.session.commit()
        return report


@blp.route("/admin/audit")
class AuditView(MethodView):
    decorators = ADMIN

    @blp.arguments(AuditQueryArgsSchema, location="query")
    @blp.response(200, AuditPageSchema)
    def get(self, args):
        """The audit log, newest first, filtered by user, entity, action and period."""
        start, end = exports.period_bounds(args["from_"], args["to"], export_zone())
        return services.audit_page(args, start, end, args["limit"], args["offset"])


@blp.route("/checklists/<slug>/retire")
class RetireView(MethodView):
    decorators = ADMIN

    @blp.response(200, ChecklistStateSchema)
    def post(self, slug):
        """Retire a checklist: no new visit may use it; old visits keep their version."""
        return _retired(slug, True)


@blp.route("/checklists/<slug>/restore")
class RestoreView(MethodView):
    decorators = ADMIN

    @blp.response(200, ChecklistStateSchema)
    def post(self, slug):
        """Bring a retired checklist back into use."""
        return _retired(slug, False)


def _retired(slug: str, retired: bool) -> dict:
    checklist = services.set_retired(slug, retired, current_user)
    db.session.commit()
    return {"slug": checklist.slug, "retired": checklist.retired_at is not None,
            "retired_at": checklist.retired_at}


@blp.route("/checklists/<slug>/versions")
class VersionsView(MethodView):
    decorators = ADMIN

    @blp.response(200, VersionSummarySchema(many=True))
    def get(self, slug):
        """Every version of a checklist, newest first."""
        return versions.version_history(slug)


@blp.route("/checklists/<slug>/diff")
class DiffView(MethodView):
    decorators = ADMIN

    @blp.arguments(DiffQueryArgsSchema, location="query")
    @blp.response(200, VersionDiffSchema)
    def get(self, args, slug):
        """What changed between two versions: a unified diff, and items added/removed/changed."""
        return versions.diff_versions(slug, args["from_"], args["to"])


@blp.route("/exports/<any(visits, answers, actions, disputes):what>.<any(csv, xlsx):fmt>")
class ExportView(MethodView):
    decorators = [roles_required("admin", "manager")]

    @blp.arguments(PeriodQueryArgsSchema, location="query")
    @blp.doc(responses={"200": {"description": "The file, streamed.", "content": {
        "text/csv": {}, MIMETYPES["xlsx"]: {}}}})
    def get(self, args, what, fmt):
        """Visits, answers with item scores, actions or disputes of a period, as CSV or XLSX."""
        return export_response(what, fmt, args["from_"], args["to"])


def export_response(what: str, fmt: str, first: date | None, last: date | None) -> Response:
    """The export as a streamed download, scoped to the current user (also used by the pages)."""
    zone = export_zone()
    start, end = exports.period_bounds(first, last, zone)
    columns, rows = exports.export_rows(what, current_user, start, end)
    if fmt == "csv":
        body = stream_with_context(exports.csv_chunks(columns, rows, zone))
    else:
        body = exports.file_chunks(exports.xlsx_file(what, columns, rows, zone))
    name = "-".join(str(part) for part in (what, first, last) if part) + f".{fmt}"
    return Response(body, mimetype=MIMETYPES[fmt],
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
