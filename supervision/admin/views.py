"""Admin pages: regions, stores and users (this file); checklists, imports, exports, audit
(views_files.py). Server-rendered forms with the PWA's look, zh-CN and English."""

import json
from functools import wraps
from zoneinfo import ZoneInfo

import marshmallow as ma
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import func, select

from supervision.accounts.models import ROLES, User
from supervision.admin import services
from supervision.admin.api import export_zone
from supervision.admin.schemas import (
    RegionCreateSchema,
    RegionUpdateSchema,
    StoreCreateSchema,
    StoreUpdateSchema,
    UserCreateSchema,
    UserUpdateSchema,
)
from supervision.db import db
from supervision.errors import DomainError, Forbidden
from supervision.localtime import local_zone
from supervision.messages import in_locale
from supervision.pagination import paginate
from supervision.schemas import INT_MAX
from supervision.stores.models import Region, Store

blp = Blueprint("admin", __name__, url_prefix="/admin")
USER_LISTS = ("region_ids", "store_ids")  # the user form's checkbox lists
PAGE_SIZE = 100
# Offered after the TIMEZONE setting in the store form (any IANA name may be typed).
OTHER_TIMEZONES = ("Asia/Urumqi", "Asia/Hong_Kong", "Asia/Macau", "Asia/Taipei", "UTC")


def page_roles(*roles: str):
    """Logged in (else the login page) and of one of `roles` (else 403)."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if current_user.role not in roles:
                raise Forbidden(_("This page is for administrators."))
            return view(*args, **kwargs)

        return login_required(wrapped)

    return decorator


admin_only = page_roles("admin")


def whole(text: str) -> int:
    """A query's number as the pages read it (`request.args.get(name, type=whole)`): one from
    1 to what an `integer` column holds; any other text is the default."""
    number = int(text)
    if not 1 <= number <= INT_MAX:
        raise ValueError(text)
    return number


def render(template: str, **context):
    return render_template(f"admin/{template}", page="admin", **context)


@blp.app_template_filter("localtime")
def localtime(value) -> str:
    if value is None:
        return ""
    return value.astimezone(ZoneInfo(export_zone())).strftime("%Y-%m-%d %H:%M")


@blp.app_template_filter("worded")
def worded(message: str) -> str:
    """A service's or a schema's message in the page's language (messages.py)."""
    return in_locale(message) if isinstance(message, str) else str(message)


@blp.app_template_filter("audit_details")
def audit_details(details: dict) -> str:
    """`key: value` pairs, Chinese left readable."""
    return "; ".join(f"{key}: {json.dumps(value, ensure_ascii=False, default=str)}"
                     for key, value in (details or {}).items())


def form_values(schema: ma.Schema, lists: tuple[str, ...] = ()) -> dict:
    """The submitted form as the schema expects it: blanks are None where a field may be empty,
    blank text where it may not (a name cleared is refused, not kept) and left out otherwise;
    a checkbox sends its last value (a hidden "false" comes first)."""
    data = {}
    for name, field in schema.fields.items():
        if name in lists:
            data[name] = request.form.getlist(name)
            continue
        sent = request.form.getlist(name)
        if not sent:
            continue
        value = sent[-1].strip()
        if value or field.allow_none:
            data[name] = value or None
        elif isinstance(field, ma.fields.String):
            data[name] = ""
    return data


def submit(schema: ma.Schema, action, lists: tuple[str, ...] = (), values: dict | None = None):
    """Load the form (or `values` read from it) and run `action(loaded)`; returns (result,
    errors by field)."""
    try:
        result = action(schema.load(form_values(schema, lists) if values is None else values))
    except ma.ValidationError as error:
        return None, error.normalized_messages()
    except DomainError as error:
        db.session.rollback()
        errors = (error.errors or {}).get("json") or {"_": [error.message]}
        return None, errors
    db.session.commit()
    return result, {}


@blp.get("/")
@page_roles("admin", "manager")
def index():
    if current_user.role != "admin":
        return redirect(url_for("admin.exports"))
    return redirect(url_for("admin.stores"))


# Regions


@blp.route("/regions", methods=["GET", "POST"])
@admin_only
def regions():
    errors, values = {}, {}
    if request.method == "POST":
        region, errors = submit(RegionCreateSchema(),
                                lambda v: services.create_region(v, current_user))
        if region is not None:
            flash(_("Region %(code)s created.", code=region.code), "success")
            return redirect(url_for("admin.regions"))
        values = request.form
    counts = dict(db.session.execute(
        select(Store.region_id, func.count()).group_by(Store.region_id)).all())
    return render("regions.html", regions=services.list_regions(), counts=counts, errors=errors,
                  values=values), 422 if errors else 200


@blp.route("/regions/<int:region_id>", methods=["GET", "POST"])
@admin_only
def region(region_id):
    region = services.get_or_404(Region, region_id, _("Region"))
    errors = {}
    if request.method == "POST":
        done, errors = submit(RegionUpdateSchema(),
                              lambda v: services.update_region(region_id, v, current_user))
        if done is not None:
            flash(_("Region %(code)s saved.", code=done.code), "success")
            return redirect(url_for("admin.regions"))
    return render("region_form.html", region=region, errors=errors,
                  values=request.form if errors else region), 422 if errors else 200


# Stores


@blp.get("/stores")
@admin_only
def stores():
    q, region_id = request.args.get("q", "").strip(), request.args.get("region_id", type=whole)
    page = request.args.get("page", 1, type=whole)
    query = services.search_stores(q or None, region_id)
    found, total = paginate(query, PAGE_SIZE, (page - 1) * PAGE_SIZE)
    return render("stores.html", stores=found, total=total, page_no=page, q=q, region_id=region_id,
                  pages=max(1, -(-total // PAGE_SIZE)), regions=services.list_regions())


@blp.route("/stores/new", methods=["GET", "POST"])
@admin_only
def store_new():
    errors = {}
    if request.method == "POST":
        store, errors = submit(StoreCreateSchema(),
                               lambda v: services.create_store(v, current_user))
        if store is not None:
            flash(_("Store %(code)s created.", code=store.code), "success")
            return redirect(url_for("admin.stores", q=store.code))
    values = request.form if request.method == "POST" else {"geofence_m": 300,
                                                            "timezone": local_zone()}
    return _store_form(None, values, errors)


@blp.route("/stores/<int:store_id>", methods=["GET", "POST"])
@admin_only
def store_edit(store_id):
    store = services.get_or_404(Store, store_id, _("Store"))
    errors = {}
    if request.method == "POST":
        done, errors = submit(StoreUpdateSchema(),
                              lambda v: services.update_store(store_id, v, current_user))
        if done is not None:
            flash(_("Store %(code)s saved.", code=done.code), "success")
            return redirect(url_for("admin.stores", q=done.code))
    return _store_form(store, request.form if errors else store, errors)


def _store_form(store, values, errors):
    return render("store_form.html", store=store, values=values, errors=errors,
                  regions=services.list_regions(), timezones=_timezone_choices(),
                  ), 422 if errors else 200


def _timezone_choices() -> tuple[str, ...]:
    """The TIMEZONE setting first, then the other zones stores are commonly in."""
    return (local_zone(), *(zone for zone in OTHER_TIMEZONES if zone != local_zone()))


# Users


@blp.get("/users")
@admin_only
def users():
    q, role = request.args.get("q", "").strip(), request.args.get("role") or None
    found = db.session.scalars(services.search_users(q or None, role)).all()
    return render("users.html", users=found, q=q, role_filter=role, roles=ROLES)


@blp.route("/users/new", methods=["GET", "POST"])
@admin_only
def user_new():
    errors = {}
    if request.method == "POST":
        user, errors = submit(UserCreateSchema(), lambda v: services.create_user(v, current_user),
                              lists=USER_LISTS)
        if user is not None:
            flash(_("User %(email)s created.", email=user.email), "success")
            return redirect(url_for("admin.user_edit", user_id=user.id))
    return _user_form(None, request.form if errors else {"active": True}, errors)


@blp.route("/users/<int:user_id>", methods=["GET", "POST"])
@admin_only
def user_edit(user_id):
    user = services.get_or_404(User, user_id, _("User"))
    errors = {}
    if request.method == "POST":
        done, errors = submit(UserUpdateSchema(),
                              lambda v: services.update_user(user_id, v, current_user),
                              lists=USER_LISTS)
        if done is not None:
            flash(_("User %(email)s saved.", email=done.email), "success")
            return redirect(url_for("admin.user_edit", user_id=user_id))
    return _user_form(user, request.form if errors else user, errors)


def _user_form(user, values, errors):
    return render("user_form.html", user=user, values=values, errors=errors, roles=ROLES,
                  regions=services.list_regions(), chosen=_chosen(values, "region_ids", "regions"),
                  stores=db.session.scalars(services.search_stores()).all(),
                  chosen_stores=_chosen(values, "store_ids", "stores")), 422 if errors else 200


def _chosen(values, field: str, relation: str) -> set[int]:
    """The ids ticked in the sent form, or those the user has."""
    if hasattr(values, "getlist"):
        return {int(v) for v in values.getlist(field) if v.isdigit()}
    return {row.id for row in getattr(values, relation, [])}


@blp.post("/users/<int:user_id>/password")
@admin_only
def user_password(user_id):
    given = request.form.get("password", "").strip() or None
    if given is not None and len(given) < 8:
        flash(_("A password needs at least 8 characters."), "error")
        return redirect(url_for("admin.user_edit", user_id=user_id))
    password = services.reset_password(user_id, given, current_user)
    db.session.commit()
    flash(_("New password: %(password)s — tell it to the user; it is not shown again.",
            password=password), "success")
    return redirect(url_for("admin.user_edit", user_id=user_id))


@blp.post("/users/<int:user_id>/active")
@admin_only
def user_active(user_id):
    active = request.form.get("active") == "true"
    try:
        services.update_user(user_id, {"active": active}, current_user)
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
        return redirect(url_for("admin.user_edit", user_id=user_id))
    db.session.commit()
    flash(_("Account activated.") if active else _("Account deactivated."), "success")
    return redirect(url_for("admin.user_edit", user_id=user_id))


# Their routes join this blueprint.
from supervision.admin import views_files, views_integrations  # noqa: E402,F401
