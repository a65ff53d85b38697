"""Bulk import of stores, users (store managers naming their stores) and store staff: check every
row, report each problem, upsert all or none."""

import re
import secrets
from dataclasses import dataclass, field

import marshmallow as ma
from marshmallow import validate
from sqlalchemy import select

from supervision.accounts.models import User
from supervision.accounts.services import link_problems
from supervision.admin.schemas import CODE, StoreFieldsSchema, UserFieldsSchema
from supervision.admin.services import apply_changes
from supervision.admin.tables import HEADER_SEARCH_ROWS, Table, normalise_header, read_table
from supervision.audit.services import record
from supervision.db import db
from supervision.errors import NotFound
from supervision.localtime import local_zone
from supervision.schemas import Name, not_printable, text_problems
from supervision.stores.models import Region, Staff, Store

TRUE = {"是", "启用", "有效", "在用", "正常", "y"}
FALSE = {"否", "停用", "无效", "禁用", "n"}
ROLE_NAMES = {"管理员": "admin", "区域经理": "manager", "经理": "manager", "督导": "supervisor",
              "现场督导": "supervisor", "神秘顾客": "shopper", "暗访员": "shopper",
              "厅主任": "store_manager", "店长": "store_manager", "营业厅主任": "store_manager",
              "store manager": "store_manager"}
# Column → the header spellings accepted (compared without spaces, dashes or case).
STORE_COLUMNS = {
    "code": ("code", "storecode", "编码", "门店编码", "营业厅编码", "厅编码", "代码", "编号"),
    "name": ("name", "storename", "名称", "门店名称", "营业厅名称", "厅名", "营业厅"),
    "name_en": ("nameen", "englishname", "英文名称", "英文名"),
    "address": ("address", "地址", "门店地址", "营业厅地址"),
    "region": ("region", "regioncode", "区域", "区域编码", "片区", "地区"),
    "lat": ("lat", "latitude", "纬度"),
    "lon": ("lon", "lng", "longitude", "经度"),
    "geofence_m": ("geofencem", "geofence", "geofenceradius", "radius", "围栏半径", "半径"),
    "timezone": ("timezone", "tz", "时区"),
    "manager_name": ("managername", "manager", "店长", "厅主任", "负责人"),
    "tags": ("tags", "tag", "class", "storeclass", "分类", "门店分类", "标签", "等级", "门店等级"),
    "active": ("active", "启用", "状态"),
}
USER_COLUMNS = {
    "email": ("email", "mail", "邮箱", "电子邮件", "电子邮箱"),
    "name": ("name", "姓名", "名字"),
    "role": ("role", "角色"),
    "regions": ("regions", "region", "区域", "片区"),
    "stores": ("stores", "store", "storecodes", "门店", "门店编码", "营业厅", "营业厅编码",
               "所属门店"),
    "phone": ("phone", "mobile", "手机", "电话", "手机号"),
    "locale": ("locale", "language", "lang", "语言"),
    "active": ("active", "启用", "状态"),
    "password": ("password", "密码", "初始密码"),
}
# A store's roster: the store by code; a person by badge number (工号), or by name without one.
STAFF_COLUMNS = {
    "store": ("store", "storecode", "门店编码", "门店", "营业厅编码", "营业厅", "厅编码"),
    "name": ("name", "staffname", "姓名", "员工姓名", "名字"),
    "badge": ("badge", "badgeno", "badgenumber", "工号", "员工工号", "胸牌号"),
    "position": ("position", "title", "岗位", "职位", "职务"),
    "active": ("active", "在岗", "启用", "状态"),
}
# With the TIMEZONE setting as the time zone: store_defaults().
STORE_DEFAULTS = {"geofence_m": 300, "active": True}
USER_DEFAULTS = {"active": True}
STAFF_DEFAULTS = {"active": True}
CODES = r"[;,，；、\s]+"  # how people separate the codes of several regions or stores


def _boolean() -> ma.fields.Boolean:
    return ma.fields.Boolean(truthy=ma.fields.Boolean.truthy | TRUE,
                             falsy=ma.fields.Boolean.falsy | FALSE)


class _RowSchema(ma.Schema):
    active = _boolean()

    @ma.pre_load
    def blanks_are_missing(self, data: dict, **kwargs) -> dict:
        """Blank cells are missing; a cell with a control character is refused whole."""
        problems = {path[0]: [not_printable(character)]
                    for path, character in text_problems(data)}
        if problems:
            raise ma.ValidationError(problems)
        return {key: value for key, value in data.items() if value != ""}


class StoreRowSchema(_RowSchema, StoreFieldsSchema):
    code = ma.fields.String(required=True, validate=[validate.Length(max=32), CODE])
    region = ma.fields.String(required=True)
    active = _boolean()


class UserRowSchema(_RowSchema, UserFieldsSchema):
    email = ma.fields.Email(required=True, validate=validate.Length(max=254))
    regions = ma.fields.String()
    stores = ma.fields.String()
    password = ma.fields.String(validate=validate.Length(min=8, max=200))
    active = _boolean()

    @ma.pre_load
    def role_names(self, data: dict, **kwargs) -> dict:
        role, locale = data.get("role", "").strip(), data.get("locale", "").strip().lower()
        if role:
            data["role"] = ROLE_NAMES.get(role) or ROLE_NAMES.get(role.lower(), role.lower())
        if locale:
            data["locale"] = "zh" if locale.startswith(("zh", "中")) else locale
        return data


class StaffRowSchema(_RowSchema):
    store = ma.fields.String(required=True)
    name = Name(120, required=True)
    badge = Name(32)
    position = Name(64)


@dataclass
class Report:
    kind: str
    format: str
    encoding: str | None
    dry_run: bool
    applied: bool = False
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    ignored_columns: list[str] = field(default_factory=list)
    problems: list[dict] = field(default_factory=list)
    positions: dict = field(default_factory=dict, repr=False)  # header text → its column

    def problem(self, line: int, column: str | None, message: str) -> None:
        self.problems.append({"line": line, "column": column, "message": message})


@dataclass
class Row:
    line: int
    values: dict
    headers: dict  # column → the header text as written in the file


def import_file(kind: str, data: bytes, filename: str, dry_run: bool, actor) -> Report:
    """Check every row; unless `dry_run` or a problem was found, create or update every row."""
    if kind not in IMPORTERS:
        raise NotFound(f"Nothing to import as {kind!r}: use stores, users or staff.")
    columns, required, schema, plan, apply = IMPORTERS[kind]
    table = read_table(data, filename)
    report = Report(kind, table.format, table.encoding, dry_run)
    rows = _rows(table, columns, required, report)
    loaded = _validated(rows, schema, report)
    plans = plan(loaded, report)
    report.rows = len(rows)
    for action in ("created", "updated", "unchanged"):
        setattr(report, action, sum(1 for p in plans if p["action"] == action))
    report.problems.sort(key=lambda p: (p["line"], report.positions.get(p["column"], -1)))
    if not dry_run and not report.problems:
        for item in plans:
            apply(item, actor)
        record(actor, "import", "import", (filename or "upload")[:64], kind=kind,
               rows=report.rows, created=report.created, updated=report.updated)
        report.applied = True
    return report


def _rows(table: Table, columns: dict, required: tuple, report: Report) -> list[Row]:
    """Find the header row, map its cells to columns, and read the rows below it."""
    aliases = {alias: column for column, spellings in columns.items() for alias in spellings}
    line, header = _header(table, aliases)
    mapping: dict[int, str] = {}
    for index, text in enumerate(header):
        column = next((aliases[k] for k in normalise_header(text) if k in aliases), None)
        if column and column not in mapping.values():
            mapping[index] = column
            report.positions[text] = index
        elif text:
            report.ignored_columns.append(text)
    for column in required:
        if column not in mapping.values():
            chinese = next(a for a in columns[column] if not a.isascii())
            report.problem(line, column, f"Missing column {column} ({chinese}).")
    if report.problems:
        return []
    rows = []
    for number, cells in table.rows:
        if number <= line or not any(cells):
            continue
        values = {column: cells[i] if i < len(cells) else "" for i, column in mapping.items()}
        rows.append(Row(number, values, {column: header[i] for i, column in mapping.items()}))
    return rows


def _header(table: Table, aliases: dict) -> tuple[int, list[str]]:
    """The row among the first few that names the most known columns (the last of equals,
    so that the lower row of a two-row merged header wins)."""
    best, best_count = (1, []), 0
    for number, cells in table.rows[:HEADER_SEARCH_ROWS]:
        count = sum(any(k in aliases for k in normalise_header(cell)) for cell in cells)
        if count and count >= best_count:
            best, best_count = (number, cells), count
    return best


def _validated(rows: list[Row], schema: ma.Schema, report: Report) -> list[Row]:
    good = []
    for row in rows:
        try:
            row.values = schema.load(row.values, unknown=ma.INCLUDE)
        except ma.ValidationError as error:
            for column, messages in error.normalized_messages().items():
                for message in messages if isinstance(messages, list) else [str(messages)]:
                    report.problem(row.line, row.headers.get(column, column), message)
            continue
        good.append(row)
    return good


def _duplicates(rows: list[Row], key: str, report: Report) -> list[Row]:
    first: dict[str, int] = {}
    unique = []
    for row in rows:
        value = row.values[key].lower() if key == "email" else row.values[key]
        if value in first:
            report.problem(row.line, row.headers[key],
                           f"Duplicate {key} {row.values[key]} (also on line {first[value]}).")
        else:
            first[value] = row.line
            unique.append(row)
    return unique


class _Regions:
    """Regions by code, by case-insensitive code, or by name, as people write them."""

    def __init__(self):
        self.all = list(db.session.scalars(select(Region)))
        self.by_key = {r.name: r for r in self.all} | {r.code.lower(): r for r in self.all} | {
            r.code: r for r in self.all}

    def find(self, text: str) -> Region | None:
        return self.by_key.get(text) or self.by_key.get(text.lower())


def _plan_stores(rows: list[Row], report: Report) -> list[dict]:
    rows, regions = _duplicates(rows, "code", report), _Regions()
    existing = {s.code: s for s in db.session.scalars(
        select(Store).where(Store.code.in_([row.values["code"] for row in rows])))}
    plans = []
    for row in rows:
        values = dict(row.values)
        region = regions.find(values.pop("region"))
        if region is None:
            report.problem(row.line, row.headers["region"],
                           f"Unknown region {row.values['region']}: create it first.")
            continue
        values["region_id"] = region.id
        plans.append(_plan(row, values, store_defaults(), existing.get(values["code"])))
    return plans


def store_defaults() -> dict:
    """What an imported store gets for a column the file leaves out or blank."""
    return {**STORE_DEFAULTS, "timezone": local_zone()}


def _plan(row: Row, values: dict, defaults: dict, current) -> dict:
    """Columns in the file are the truth, blank cells included; columns not in it are kept."""
    for column in row.headers:
        if column in values or column in ("region", "regions", "stores", "store", "password"):
            continue
        values[column] = defaults.get(column)
    if current is None:
        return {"action": "created", "values": values}
    changed = any(getattr(current, key) != value for key, value in values.items())
    return {"action": "updated" if changed else "unchanged", "values": values, "current": current}


def _apply_store(plan: dict, actor) -> None:
    if plan["action"] == "created":
        store = Store(**{**store_defaults(), **plan["values"]})
        db.session.add(store)
        db.session.flush()
        record(actor, "create", "store", store.id, source="import", **plan["values"])
    elif plan["action"] == "updated":
        store = plan["current"]
        changes = apply_changes(store, plan["values"])
        record(actor, "update", "store", store.id, source="import", code=store.code,
               changes=changes)


def _plan_users(rows: list[Row], report: Report) -> list[dict]:
    rows, regions = _duplicates(rows, "email", report), _Regions()
    emails = [row.values["email"].lower() for row in rows]
    existing = {u.email: u for u in db.session.scalars(select(User).where(User.email.in_(emails)))}
    stores = {s.code: s for s in db.session.scalars(select(Store))} if any(
        "stores" in row.headers for row in rows) else {}
    plans = []
    for row in rows:
        values = dict(row.values)
        values["email"] = values["email"].lower()
        password = values.pop("password", None)
        linked = [_linked(row, values, "regions", regions.find, "region", "create it first"),
                  _linked(row, values, "stores", lambda code: stores.get(code.upper()), "store",
                          "import the stores first")]
        if any(problem for problem in linked if problem):
            for problem in filter(None, linked):
                report.problem(row.line, *problem)
            continue
        current = existing.get(values["email"])
        if _link_problems(row, values, current, report):
            continue
        plan = _plan(row, values, USER_DEFAULTS, current)
        plans.append({**plan, "password": password})
    return plans


def _linked(row: Row, values: dict, column: str, find, what: str, advice: str):
    """Replace the cell of codes by what they name (sorted by id); a problem for unknown ones."""
    if column not in row.headers:
        return None
    codes = [c for c in re.split(CODES, values.pop(column, "")) if c]
    found = [find(code) for code in codes]
    unknown = [code for code, item in zip(codes, found, strict=True) if item is None]
    if unknown:
        return row.headers[column], f"Unknown {what} {', '.join(unknown)}: {advice}."
    values[column] = sorted(set(found), key=lambda item: item.id)
    return None


def _link_problems(row: Row, values: dict, current, report: Report) -> bool:
    """A store manager names one or more stores and no region; no other role has a store."""
    role = values.get("role") or (current.role if current else None)
    regions = values.get("regions", current.regions if current else [])
    stores = values.get("stores", current.stores if current else [])
    problems = link_problems(role, regions, stores, ("regions", "stores"))
    for column, messages in problems.items():
        for message in messages:
            report.problem(row.line, row.headers.get(column, column), message)
    return bool(problems)


def _apply_user(plan: dict, actor) -> None:
    values = plan["values"]
    if plan["action"] == "created":
        user = User(**{**USER_DEFAULTS, **values})
        # Without a password in the file the account waits for an administrator's reset.
        user.set_password(plan["password"] or secrets.token_urlsafe(24))
        db.session.add(user)
        db.session.flush()
        record(actor, "create", "user", user.id, source="import", email=user.email,
               role=user.role, regions=[r.code for r in user.regions],
               stores=[s.code for s in user.stores])
    elif plan["action"] == "updated":
        user = plan["current"]
        changes = apply_changes(user, values)
        record(actor, "update", "user", user.id, source="import", email=user.email,
               changes=changes)


def _plan_staff(rows: list[Row], report: Report) -> list[dict]:
    """Each row's store by code; the person found by badge number in that store (by name
    when the row has no badge)."""
    codes = {row.values["store"].strip().upper() for row in rows}
    stores = {s.code: s for s in db.session.scalars(select(Store).where(Store.code.in_(codes)))}
    roster = _rosters([s.id for s in stores.values()])
    seen: dict[tuple, int] = {}
    plans = []
    for row in rows:
        values = dict(row.values)
        code = values.pop("store").strip().upper()
        store = stores.get(code)
        if store is None:
            report.problem(row.line, row.headers["store"],
                           f"Unknown store {code}: import the stores first.")
            continue
        key = (store.id, "badge", values["badge"]) if values.get("badge") else (
            store.id, "name", values["name"])
        if key in seen:
            report.problem(row.line, row.headers[key[1]],
                           f"Duplicate {key[1]} {key[2]} at {code} (also on line {seen[key]}).")
            continue
        seen[key] = row.line
        values["store_id"] = store.id
        plans.append(_plan(row, values, STAFF_DEFAULTS, roster.get(key)))
    return plans


def _rosters(store_ids: list[int]) -> dict[tuple, Staff]:
    """Each person under (store id, "badge", badge) and (store id, "name", name)."""
    found = {}
    for person in db.session.scalars(select(Staff).where(Staff.store_id.in_(store_ids))
                                      .order_by(Staff.id)):
        if person.badge:
            found.setdefault((person.store_id, "badge", person.badge), person)
        found.setdefault((person.store_id, "name", person.name), person)
    return found


def _apply_staff(plan: dict, actor) -> None:
    if plan["action"] == "created":
        person = Staff(**{**STAFF_DEFAULTS, **plan["values"]})
        db.session.add(person)
        db.session.flush()
        record(actor, "create", "staff", person.id, source="import", store_id=person.store_id,
               name=person.name, badge=person.badge)
    elif plan["action"] == "updated":
        person = plan["current"]
        changes = apply_changes(person, plan["values"])
        record(actor, "update", "staff", person.id, source="import", changes=changes)


IMPORTERS = {
    "stores": (STORE_COLUMNS, ("code", "name", "region"), StoreRowSchema(), _plan_stores,
               _apply_store),
    "users": (USER_COLUMNS, ("email", "name", "role"), UserRowSchema(), _plan_users, _apply_user),
    "staff": (STAFF_COLUMNS, ("store", "name"), StaffRowSchema(), _plan_staff, _apply_staff),
}
