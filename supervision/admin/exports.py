"""Exports for analysts: visits, answers with item scores, actions and disputes, as CSV or XLSX.

Rows are fetched in batches (`yield_per`, a server-side cursor on PostgreSQL) and written as they
come, so an export of 100 000 answers never holds them all in memory."""

import csv
import io
import json
import tempfile
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from sqlalchemy import and_, case, null, select

from supervision.accounts.models import User
from supervision.checklists.models import Checklist, ChecklistVersion
from supervision.db import db
from supervision.errors import NotFound
from supervision.followup.models import Action, Dispute
from supervision.localtime import day_begins, day_ends
from supervision.schemas import printable
from supervision.scoping import (
    scoped_actions,
    scoped_disputes,
    scoped_visits,
    sees_store_version,
)
from supervision.stores.models import Region, Store
from supervision.visits.models import Response, Visit

BATCH = 500
ANSWER_BATCH = 100  # visits per batch: each carries its frozen score
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
VISIT_COLUMNS = ("visit_id", "store_code", "store_name", "region_code", "checklist",
                 "checklist_version", "kind", "status", "author", "started_at", "ended_at",
                 "submitted_at", "published_at", "total", "grade", "red_line")
ANSWER_COLUMNS = ("visit_id", "started_at", "store_code", "region_code", "checklist",
                  "checklist_version", "section", "function", "moment", "item", "item_text_zh",
                  "item_text_en", "kano", "value", "na", "note", "staff", "item_status",
                  "fraction", "earned", "possible", "bonus")
ACTION_COLUMNS = ("action_id", "store_code", "region_code", "visit_id", "item", "title", "owner",
                  "due_date", "status", "created_at", "done_at", "verified_at")
# No customer names or contacts: analysts get the case, not the person.
DISPUTE_COLUMNS = ("dispute_id", "reference", "store_code", "region_code", "visit_id", "category",
                   "matter", "customer_request", "first_handler", "received_at",
                   "promised_reply_at", "due_at", "status", "closed_at", "result")


def period_bounds(start: date | None, end: date | None, zone: str) -> tuple[datetime | None, ...]:
    """[start, end) as UTC instants: the whole local days of `zone`, `end` included."""
    return (None if start is None else day_begins(start, zone),
            None if end is None else day_ends(end, zone))


def export_rows(what: str, user: User, start, end) -> tuple[tuple[str, ...], Iterator[tuple]]:
    """The column names and a lazy iterator over the rows the user may see in the period.

    The query, with the user's scope, is built now; it runs only when the rows are read, which
    for a streamed response is after the view has returned (and its session was closed)."""
    if what not in EXPORTS:
        raise NotFound(f"No export named {what!r}: use visits, answers, actions or disputes.")
    columns, build, rows = EXPORTS[what]
    return columns, rows(build(user, start, end))


def _execute(query, batch: int | None = None):
    """Plain rows, no ORM bookkeeping; `batch` rows at a time through a server-side cursor."""
    options = {"yield_per": batch} if batch else {}
    return db.session.connection().execute(query, execution_options=options)


def _plain_rows(query) -> Iterator[tuple]:
    for row in _execute(query, BATCH):
        yield tuple(row)


def visits_select(user: User):
    """The VISIT_COLUMNS of each visit, as `user` may read them (exports, the feed)."""
    columns = (Visit.id, Store.code, Store.name, Region.code, Checklist.slug,
               ChecklistVersion.version, Visit.kind, Visit.status, _author(user),
               Visit.started_at,
               Visit.ended_at, Visit.submitted_at, Visit.published_at, Visit.total, Visit.grade,
               Visit.red_line)
    return (
        select(*(c.label(name) for c, name in zip(columns, VISIT_COLUMNS, strict=True)))
        .join(Store, Store.id == Visit.store_id).join(Region, Region.id == Store.region_id)
        .join(ChecklistVersion, ChecklistVersion.id == Visit.checklist_version_id)
        .join(Checklist, Checklist.id == ChecklistVersion.checklist_id)
        .join(User, User.id == Visit.author_id)
    )


def _visits_query(user: User, start, end, *extra):
    visible = _ids(scoped_visits(user), Visit.id)
    query = (visits_select(user).add_columns(*extra)
             .where(Visit.id.in_(visible), Visit.status != "draft")
             .order_by(Visit.started_at, Visit.id))
    return _in_period(query, Visit.started_at, start, end)


def _author(user: User):
    """The author's e-mail; blank for a mystery visit someone else made when the user is on the
    store's side (as in the store version of a visit)."""
    if not sees_store_version(user):
        return User.email
    return case((and_(Visit.kind == "mystery", Visit.author_id != user.id), null()),
                else_=User.email)


def _in_period(query, column, start, end):
    if start is not None:
        query = query.where(column >= start)
    if end is not None:
        query = query.where(column < end)
    return query


def _answers_query(user: User, start, end):
    return _visits_query(user, start, end, *ANSWER_SOURCE)


# What answer_rows needs of each visit beside its VISIT_COLUMNS.
ANSWER_SOURCE = (Visit.checklist_version_id, Visit.score)


def answer_rows(query) -> Iterator[tuple]:
    """Visits in small batches; each batch's answers in one query."""
    items = _ItemTexts()
    for batch in _execute(query, ANSWER_BATCH).partitions():
        yield from answers_of(batch, items)


def answers_of(visits, items: "_ItemTexts | None" = None) -> Iterator[tuple]:
    """The ANSWER_COLUMNS of these visits (rows of VISIT_COLUMNS and ANSWER_SOURCE), with the
    item's score frozen on the visit and the item's text from the visit's checklist version."""
    items = items or _ItemTexts()
    answers: dict = {row.visit_id: [] for row in visits}
    if not answers:
        return
    for answer in _execute(
        select(Response.visit_id, Response.item_id, Response.value, Response.na,
               Response.note, Response.staff)
        .where(Response.visit_id.in_(list(answers))).order_by(Response.id)
    ):
        answers[answer.visit_id].append(answer)
    for visit in visits:
        yield from _visit_answers(visit, answers[visit.visit_id], items)


def _visit_answers(visit, answers, items: "_ItemTexts") -> Iterator[tuple]:
    scores = {s["item"]: s for s in (visit.score or {}).get("items", ())}
    for answer in answers:
        score = scores.get(answer.item_id, {})
        yield (visit.visit_id, visit.started_at, visit.store_code, visit.region_code,
               visit.checklist, visit.checklist_version,
               *items.get(visit.checklist_version_id, answer.item_id), answer.value, answer.na,
               answer.note, answer.staff, score.get("status"), score.get("fraction"),
               score.get("earned"), score.get("possible"), score.get("bonus"))


class _ItemTexts:
    """(section, function, moment, item, text zh, text en, kano) by version and item id."""

    def __init__(self):
        self.versions: dict[int, dict[str, tuple]] = {}

    def get(self, version_id: int, item_id: str) -> tuple:
        if version_id not in self.versions:
            definition = db.session.get(ChecklistVersion, version_id).definition
            self.versions[version_id] = {
                item["id"]: (section["id"], item.get("function"), item.get("moment"), item["id"],
                             item["text"]["zh"], item["text"]["en"], item.get("kano"))
                for section in definition.get("sections", ()) for item in section["items"]
            }
        unknown = (None, None, None, item_id, None, None, None)
        return self.versions[version_id].get(item_id, unknown)


def _ids(scoped, column):
    return scoped.with_only_columns(column).order_by(None)


def actions_select():
    """The ACTION_COLUMNS of each action (exports, the feed)."""
    return (
        select(Action.id, Store.code, Region.code, Action.visit_id, Action.item_id, Action.title,
               Action.owner, Action.due_date, Action.status, Action.created_at, Action.done_at,
               Action.verified_at)
        .join(Store, Store.id == Action.store_id).join(Region, Region.id == Store.region_id)
    )


def _actions_query(user: User, start, end):
    query = (actions_select().where(Action.id.in_(_ids(scoped_actions(user), Action.id)))
             .order_by(Action.created_at, Action.id))
    return _in_period(query, Action.created_at, start, end)


def disputes_select():
    """The DISPUTE_COLUMNS of each dispute (exports, the feed)."""
    return (
        select(Dispute.id, Dispute.reference, Store.code, Region.code, Dispute.visit_id,
               Dispute.category, Dispute.matter, Dispute.customer_request,
               Dispute.first_handler, Dispute.received_at, Dispute.promised_reply_at,
               Dispute.due_at, Dispute.status, Dispute.closed_at, Dispute.result)
        .join(Store, Store.id == Dispute.store_id).join(Region, Region.id == Store.region_id)
    )


def _disputes_query(user: User, start, end):
    query = (disputes_select().where(Dispute.id.in_(_ids(scoped_disputes(user), Dispute.id)))
             .order_by(Dispute.received_at, Dispute.id))
    return _in_period(query, Dispute.received_at, start, end)


EXPORTS = {
    "visits": (VISIT_COLUMNS, _visits_query, _plain_rows),
    "answers": (ANSWER_COLUMNS, _answers_query, answer_rows),
    "actions": (ACTION_COLUMNS, _actions_query, _plain_rows),
    "disputes": (DISPUTE_COLUMNS, _disputes_query, _plain_rows),
}


PLAIN = frozenset({int, float, type(None)})


def _cell(value, zone: ZoneInfo, for_excel: bool):
    """A value as a spreadsheet shows it: text that looks like a formula stays text, and text
    keeps only its printable characters (one stored before they were refused breaks no file)."""
    kind = type(value)
    if kind in PLAIN:
        return value
    if kind is str:
        value = printable(value)
        return "'" + value if value.startswith(FORMULA_START) else value
    if kind is bool:
        return value if for_excel else ("true" if value else "false")
    if isinstance(value, datetime):
        local = value.astimezone(zone)
        return local.replace(tzinfo=None) if for_excel else local.isoformat()
    if isinstance(value, date):
        return value
    if isinstance(value, dict | list):
        return _cell(json.dumps(value, ensure_ascii=False), zone, for_excel)
    return _cell(str(value), zone, for_excel)


def csv_chunks(columns: Iterable[str], rows: Iterable[tuple], zone: str) -> Iterator[str]:
    """The CSV text in chunks, with a BOM so that Excel reads the Chinese as UTF-8."""
    tz, buffer = ZoneInfo(zone), io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")
    writer.writerow(columns)
    for count, row in enumerate(rows, start=1):
        writer.writerow([_cell(value, tz, False) for value in row])
        if count % BATCH == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def xlsx_file(title: str, columns: Iterable[str], rows: Iterable[tuple], zone: str):
    """An XLSX workbook written row by row (openpyxl's write-only mode) into a temporary file,
    returned open at its start; the file disappears when closed."""
    tz, workbook = ZoneInfo(zone), Workbook(write_only=True)
    sheet = workbook.create_sheet(title)
    sheet.append(list(columns))
    for row in rows:
        sheet.append([_cell(value, tz, True) for value in row])
    file = tempfile.TemporaryFile(suffix=".xlsx")
    workbook.save(file)
    file.seek(0)
    return file


def file_chunks(file, size: int = 64 * 1024) -> Iterator[bytes]:
    with file:
        while chunk := file.read(size):
            yield chunk
