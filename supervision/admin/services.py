"""Changes made by administrators: regions, stores, users, checklist retirement; all audited."""

import secrets
from datetime import datetime

from sqlalchemy import func, or_, select

from supervision.accounts.models import User
from supervision.accounts.services import check_links
from supervision.audit.models import AuditEntry
from supervision.audit.services import record
from supervision.checklists.models import Checklist
from supervision.db import db, utcnow
from supervision.errors import Conflict, Invalid, NotFound
from supervision.pagination import paginate
from supervision.stores.models import Region, Store


def apply_changes(obj, values: dict) -> dict:
    """Set `values` on `obj`; return {field: [old, new]} for the fields that really changed."""
    changes = {}
    for field, new in values.items():
        old = getattr(obj, field)
        if old != new:
            changes[field] = [_plain(old), _plain(new)]
            setattr(obj, field, new)
    return changes


def _plain(value):
    if isinstance(value, list):
        return [getattr(v, "code", v) for v in value]
    return value


def _unique(model, field: str, value, exclude_id=None) -> None:
    query = select(model.id).where(getattr(model, field) == value)
    if exclude_id is not None:
        query = query.where(model.id != exclude_id)
    if db.session.scalar(query) is not None:
        raise Conflict(f"{field} {value} is already used.", {"json": {field: ["Already used."]}})


def get_or_404(model, object_id, what: str):
    found = db.session.get(model, object_id)
    if found is None:
        raise NotFound(f"{what} {object_id} not found.")
    return found


# Regions


def list_regions() -> list[Region]:
    return list(db.session.scalars(select(Region).order_by(Region.code)))


def create_region(values: dict, actor) -> Region:
    _unique(Region, "code", values["code"])
    region = Region(**values)
    db.session.add(region)
    db.session.flush()
    record(actor, "create", "region", region.id, **values)
    return region


def update_region(region_id: int, values: dict, actor) -> Region:
    region = get_or_404(Region, region_id, "Region")
    if "code" in values:
        _unique(Region, "code", values["code"], region.id)
    changes = apply_changes(region, values)
    if changes:
        record(actor, "update", "region", region.id, code=region.code, changes=changes)
    return region


# Stores


def search_stores(q: str | None = None, region_id: int | None = None):
    query = select(Store).order_by(Store.code)
    if region_id:
        query = query.where(Store.region_id == region_id)
    if q:
        pattern = f"%{q.strip()}%"
        query = query.where(or_(Store.code.ilike(pattern), Store.name.ilike(pattern),
                                Store.name_en.ilike(pattern), Store.address.ilike(pattern)))
    return query


def create_store(values: dict, actor) -> Store:
    _unique(Store, "code", values["code"])
    get_or_404(Region, values["region_id"], "Region")
    store = Store(**values)
    db.session.add(store)
    db.session.flush()
    record(actor, "create", "store", store.id, **values)
    return store


def update_store(store_id: int, values: dict, actor) -> Store:
    store = get_or_404(Store, store_id, "Store")
    if "code" in values:
        _unique(Store, "code", values["code"], store.id)
    if "region_id" in values:
        get_or_404(Region, values["region_id"], "Region")
    changes = apply_changes(store, values)
    if changes:
        record(actor, "update", "store", store.id, code=store.code, changes=changes)
    return store


# Users


def search_users(q: str | None = None, role: str | None = None):
    query = select(User).order_by(User.email)
    if role:
        query = query.where(User.role == role)
    if q:
        pattern = f"%{q.strip()}%"
        query = query.where(or_(User.email.ilike(pattern), User.name.ilike(pattern)))
    return query


def regions_by_id(region_ids) -> list[Region]:
    regions = list(db.session.scalars(select(Region).where(Region.id.in_(region_ids))))
    unknown = set(region_ids) - {region.id for region in regions}
    if unknown:
        listed = ", ".join(map(str, sorted(unknown)))
        raise Invalid(f"Unknown region in region_ids: {listed}.",
                      {"json": {"region_ids": [f"Unknown: {listed}."]}})
    return sorted(regions, key=lambda region: region.id)


def stores_by_id(store_ids) -> list[Store]:
    stores = list(db.session.scalars(select(Store).where(Store.id.in_(store_ids))))
    unknown = set(store_ids) - {store.id for store in stores}
    if unknown:
        listed = ", ".join(map(str, sorted(unknown)))
        raise Invalid(f"Unknown store in store_ids: {listed}.",
                      {"json": {"store_ids": [f"Unknown: {listed}."]}})
    return sorted(stores, key=lambda store: store.id)


def create_user(values: dict, actor) -> User:
    values = dict(values)
    values["email"] = values["email"].strip().lower()
    _unique(User, "email", values["email"])
    password = values.pop("password")
    regions = regions_by_id(values.pop("region_ids", []))
    stores = stores_by_id(values.pop("store_ids", []))
    check_links(values["role"], regions, stores)
    user = User(**values, regions=regions, stores=stores)
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    record(actor, "create", "user", user.id, email=user.email, role=user.role,
           regions=[region.code for region in regions], stores=[store.code for store in stores])
    return user


def update_user(user_id: int, values: dict, actor) -> User:
    user = get_or_404(User, user_id, "User")
    values = dict(values)
    if "email" in values:
        values["email"] = values["email"].strip().lower()
        _unique(User, "email", values["email"], user.id)
    if "region_ids" in values:
        values["regions"] = regions_by_id(values.pop("region_ids"))
    if "store_ids" in values:
        values["stores"] = stores_by_id(values.pop("store_ids"))
    check_links(values.get("role", user.role), values.get("regions", user.regions),
                values.get("stores", user.stores))
    _protect_self(user, values, actor)
    changes = apply_changes(user, values)
    if changes:
        record(actor, "update", "user", user.id, email=user.email, changes=changes)
    return user


def _protect_self(user: User, values: dict, actor) -> None:
    """An administrator cannot lock themselves out."""
    if actor is None or user.id != actor.id:
        return
    if values.get("active") is False:
        raise Conflict("You cannot deactivate your own account.",
                       {"json": {"active": ["Not on your own account."]}})
    if values.get("role", "admin") != "admin":
        raise Conflict("You cannot take away your own admin role.",
                       {"json": {"role": ["Not on your own account."]}})


def reset_password(user_id: int, password: str | None, actor) -> str:
    """Set a new password (random when none is given); every token of the user stops working."""
    user = get_or_404(User, user_id, "User")
    password = password or secrets.token_urlsafe(9)
    user.set_password(password)
    record(actor, "reset_password", "user", user.id, email=user.email)
    return password


# Checklists


def set_retired(slug: str, retired: bool, actor) -> Checklist:
    """A retired checklist takes no new visit; visits already made keep their version."""
    checklist = db.session.scalars(select(Checklist).where(Checklist.slug == slug)).first()
    if checklist is None:
        raise NotFound(f"Checklist {slug} not found.")
    if (checklist.retired_at is not None) != retired:
        checklist.retired_at = utcnow() if retired else None
        record(actor, "retire" if retired else "restore", "checklist", checklist.id, slug=slug)
    return checklist


# Audit log


def audit_query(user: str | None = None, entity: str | None = None, action: str | None = None,
                start: datetime | None = None, end: datetime | None = None):
    query = select(AuditEntry, User.email).outerjoin(User, User.id == AuditEntry.user_id)
    if user:
        query = query.where(User.id == int(user) if user.isascii() and user.isdigit()
                            else func.lower(User.email) == user.strip().lower())
    if entity:
        query = query.where(AuditEntry.entity == entity)
    if action:
        query = query.where(AuditEntry.action == action)
    if start:
        query = query.where(AuditEntry.at >= start)
    if end:
        query = query.where(AuditEntry.at < end)
    return query


def audit_page(filters: dict, start, end, limit: int = 100, offset: int = 0) -> dict:
    query = audit_query(filters.get("user"), filters.get("entity"), filters.get("action"),
                        start, end)
    query = query.order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
    rows, total = paginate(query, limit, offset, rows=True)
    entries = [{**_entry(entry), "user_email": email} for entry, email in rows]
    return {"total": total, "entries": entries}


def _entry(entry: AuditEntry) -> dict:
    return {column: getattr(entry, column)
            for column in ("id", "at", "user_id", "action", "entity", "entity_id", "details")}


def audit_entities() -> list[str]:
    query = select(AuditEntry.entity).distinct().order_by(AuditEntry.entity)
    return list(db.session.scalars(query))
