"""The store's queries of a published mystery result, and the reviewer's rulings.

When a mystery visit is published its store managers may, until the query window closes
(`Visit.queries_close_at`: the checklist's `query_window_hours` after publication), query
specific items: the item, a factual reason and optional photos (a receipt, the queue ticket).
The reviewer rules on each query:

- uphold: the result stands;
- amend: the answer changes, the visit is scored again, and the change is kept in the visit's
  change record (kind "query_amend", with the ruling's reason);
- reshop: a new assignment for another shopper of the region; the queried visit is kept but left
  out of averages (`Visit.excluded = "reshop"`) for good: the re-shop's own visit replaces it.

A query never names the shopper, and the store's side never learns who ruled.
"""

from datetime import timedelta

from sqlalchemy import func, select

from supervision.accounts.models import User, user_regions
from supervision.audit.services import record
from supervision.checklists.definition import ChecklistDefinition
from supervision.checklists.services import definition_of
from supervision.db import db, utcnow
from supervision.errors import Conflict, Invalid, NotFound
from supervision.followup import assignments, evidence
from supervision.followup.models import (
    QUERY_RULINGS,
    Action,
    Assignment,
    Query,
    QueryEvidence,
)
from supervision.followup.review import check_edits, correct_answer
from supervision.notifications import triggers as notifications
from supervision.reports import prerender
from supervision.scoping import get_query, get_visit, scoped_queries, sees_store_version
from supervision.transitions import locked
from supervision.visits.models import Visit
from supervision.visits.services import body_hash

# Why a proposal of a gap corrected on the store's query was dismissed.
CORRECTED_ON_QUERY = "申诉后更正：该项已达标 / Corrected after query: the item is met."
# A re-shop's window when the ruling names none: the next two weeks.
RESHOP_DAYS = 14
# Who queries a result (the store's managers), who rules (the reviewers).
RAISERS = ("admin", "store_manager")
RULERS = ("admin", "manager")


def closes_at(visit: Visit):
    """When the store's query window of a published mystery visit closes (visits published
    before the window existed: their publication + the checklist's window)."""
    if visit.queries_close_at is not None or visit.published_at is None:
        return visit.queries_close_at
    return visit.published_at + definition_of(visit.checklist_version).query_window


def list_queries(user: User, filters: dict) -> list[Query]:
    query = scoped_queries(user).order_by(Query.raised_at.desc(), Query.id)
    if "status" in filters:
        query = query.where(Query.status == filters["status"])
    if "store_id" in filters:
        query = query.where(Query.visit_id.in_(
            select(Visit.id).where(Visit.store_id == filters["store_id"])))
    return list(db.session.scalars(query))


def queries_of(user: User, visit_id) -> list[Query]:
    """A visit's queries, for who may see the visit; its shopper never sees them."""
    visit = get_visit(user, visit_id)
    if user.role == "shopper":
        raise NotFound(f"Visit {visit_id} has no queries you may see.")
    return list(db.session.scalars(select(Query).where(Query.visit_id == visit.id)
                                   .order_by(Query.raised_at, Query.id)))


def raise_query(user: User, visit_id, body: dict) -> tuple[Query, bool]:
    """The store queries an item of its published mystery result; returns (query, created).
    The same body again is a replay; another query of an item already queried is a 409."""
    visit = get_visit(user, visit_id)
    digest = body_hash({key: body.get(key) for key in ("item", "reason", "evidence")})
    existing = db.session.scalars(select(Query).where(
        Query.visit_id == visit.id, Query.item_id == body["item"])).first()
    if existing is not None:
        if existing.body_hash == digest:
            return existing, False
        raise Conflict(f"Item {body['item']} of this visit was already queried.",
                       {"json": {"item": ["Already queried."]}})
    _check_queryable(visit, definition_of(visit.checklist_version), body["item"])
    reason = body["reason"].strip()
    if not reason:
        raise Invalid("Say what the facts are.", {"json": {"reason": ["Required."]}})
    query = Query(visit_id=visit.id, item_id=body["item"], reason=reason, status="open",
                  raised_by_id=user.id, raised_at=utcnow(), body_hash=digest)
    db.session.add(query)
    db.session.flush()
    record(user, "create", "query", query.id, visit_id=str(visit.id), item=query.item_id)
    notifications.query_raised(query, visit)
    return query, True


def _check_queryable(visit: Visit, definition: ChecklistDefinition, item_id: str) -> None:
    if visit.kind != "mystery" or visit.status != "published":
        raise Conflict("Only a published mystery result can be queried.",
                       {"json": {"visit": ["Not a published mystery visit."]}})
    closing = closes_at(visit)
    if closing is not None and utcnow() >= closing:
        raise Conflict(f"The query window closed at {closing.isoformat(timespec='minutes')}.",
                       {"json": {"item": ["The query window is closed."]}})
    try:
        definition.item(item_id)
    except KeyError:
        problem = f"Unknown item '{item_id}' in {definition.slug}."
        raise Invalid(problem, {"json": {"item": [problem]}}) from None


def receive_evidence(user: User, query_id: int, evidence_id, taken_at, stream,
                     declared_type: str, limits: tuple[int, int]):
    """A photo the store sends with its open query; the same bytes again are harmless."""
    query = get_query(user, query_id)
    return evidence.receive(user, query, QueryEvidence, "query_id", _check_open, evidence_id,
                            taken_at, stream, declared_type, limits)


def _check_open(query: Query) -> None:
    if query.status != "open":
        raise Conflict(f"Query {query.id} was ruled ({query.status}): no more photos.",
                       {"status": [f"The query is {query.status}."]})


def evidence_file(user: User, query_id: int, evidence_id, size: str):
    query = get_query(user, query_id)
    found = next((e for e in query.evidence if e.id == evidence_id), None)
    if found is None:
        raise NotFound(f"Query {query_id} has no photo {evidence_id}.")
    return evidence.stored_file(found, size)


def rule(user: User, query_id: int, body: dict) -> Query:
    """Uphold, amend (the answer changes and the visit is scored again) or order a re-shop.
    The same ruling again is a replay; another one once ruled is a 409."""
    query = locked(get_query(user, query_id))
    status = QUERY_RULINGS[body["ruling"]]
    if query.status == status:
        return query
    if query.status != "open":
        raise Conflict(f"Query {query.id} was already ruled: {query.status}.",
                       {"json": {"ruling": [f"Already {query.status}."]}})
    comment = (body.get("comment") or "").strip()
    if not comment:
        raise Invalid("Give the store the reason for the ruling.",
                      {"json": {"comment": ["Required."]}})
    visit = locked(db.session.get(Visit, query.visit_id))
    if body["ruling"] == "amend":
        _amend(user, visit, query, body, comment)
    elif body["ruling"] == "reshop":
        _reshop(user, visit, query, body)
    query.status, query.ruling_comment = status, comment
    query.ruled_by_id, query.ruled_at = user.id, utcnow()
    record(user, "rule", "query", query.id, ruling=body["ruling"], visit_id=str(visit.id))
    notifications.query_ruled(query, visit)
    return query


def _amend(user: User, visit: Visit, query: Query, body: dict, comment: str) -> None:
    if "value" not in body and not body.get("na"):
        raise Invalid("Give the corrected answer.", {"json": {"value": ["Required to amend."]}})
    definition = definition_of(visit.checklist_version)
    edit = {"item": query.item_id, "value": None if body.get("na") else body.get("value"),
            "na": bool(body.get("na"))}
    try:
        check_edits(visit, definition, [edit])
    except Invalid as error:  # name the ruling's fields, not the review's edits
        problems = error.errors["json"]["edits"][0]
        raise Invalid(str(error), {"json": {"value": sum(problems.values(), [])}}) from None
    before, after = correct_answer(user, visit, definition, edit, comment, "query_amend",
                                   query.id)
    query.old_value = {"value": before["value"], "na": before["na"]}
    query.new_value = {"value": after["value"], "na": after["na"]}
    _drop_proposals_now_met(user, visit, query.item_id)
    prerender.after_commit(visit)


def _drop_proposals_now_met(user: User, visit: Visit, item_id: str) -> None:
    """A proposal made from the gap the ruling corrected is dismissed, with the ruling as its
    reason (an action the store already agreed stays: the store dismisses it if it wants)."""
    if any(row["item"] == item_id and row["status"] == "met"
           for row in visit.score.get("items", [])):
        for action in db.session.scalars(select(Action).where(
                Action.visit_id == visit.id, Action.item_id == item_id,
                Action.status == "proposed")):
            action.status, action.dismiss_reason = "dismissed", CORRECTED_ON_QUERY
            record(user, "dismiss", "action", action.id, reason="query_amend")


def _reshop(user: User, visit: Visit, query: Query, body: dict) -> None:
    start = body.get("window_start") or utcnow()
    end = body.get("window_end") or start + timedelta(days=RESHOP_DAYS)
    shopper_id = body.get("shopper_id") or _other_shopper(visit)
    if shopper_id == visit.author_id:
        raise Invalid("A re-shop goes to another shopper.",
                      {"json": {"shopper_id": ["Not the shopper of the queried visit."]}})
    original = db.session.get(Assignment, visit.assignment_id) if visit.assignment_id else None
    assignment = assignments.create_assignment(user, {
        "store_id": visit.store_id, "checklist": visit.checklist_version.checklist.slug,
        "shopper_id": shopper_id, "window_start": start, "window_end": end,
        "scenario": original.scenario if original else None})
    query.reshop_assignment_id = assignment.id
    visit.excluded = "reshop"


def _other_shopper(visit: Visit) -> int:
    """The active shopper of the store's region, other than the visit's, with the fewest
    planned assignments."""
    planned = (select(func.count(Assignment.id)).where(Assignment.shopper_id == User.id,
                                                       Assignment.status == "planned")
               .scalar_subquery())
    found = db.session.scalar(
        select(User.id).join(user_regions, user_regions.c.user_id == User.id)
        .where(User.role == "shopper", User.active, User.id != visit.author_id,
               user_regions.c.region_id == visit.store.region_id)
        .order_by(planned, User.id).limit(1))
    if found is None:
        raise Invalid("No other shopper works in this store's region.",
                      {"json": {"shopper_id": ["No other shopper in the region."]}})
    return found


def query_document(user: User, query: Query) -> dict:
    """A query as the caller may read it: the store's side never learns who ruled, nor the
    re-shop's assignment (it would lead to a shopper)."""
    store_side = sees_store_version(user)
    visit = db.session.get(Visit, query.visit_id)
    return {
        "id": query.id, "visit_id": query.visit_id, "item": query.item_id,
        "reason": query.reason, "status": query.status, "raised_at": query.raised_at,
        "evidence": [{"id": e.id, "received_at": e.received_at} for e in query.evidence],
        "ruling_comment": query.ruling_comment, "ruled_at": query.ruled_at,
        "ruled_by_id": None if store_side else query.ruled_by_id,
        "old_value": query.old_value, "new_value": query.new_value,
        "reshop_assignment_id": None if store_side else query.reshop_assignment_id,
        "closes_at": closes_at(visit),
    }
