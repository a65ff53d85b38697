"""The events webhooks hear of, raised by the code of each event in its transaction: a
delivery row for each active hook that listens, sent once the transaction commits."""

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from supervision import tasks
from supervision.db import db
from supervision.webhooks.models import Webhook, WebhookDelivery

DELIVER = "supervision.webhooks.delivery:deliver"


def listened(event: str) -> bool:
    """Whether any active hook listens to `event` (a sweep asks before it looks)."""
    return any(event in hook.events
               for hook in db.session.scalars(select(Webhook).where(Webhook.active)))


def emit(event: str, key: str, payload: dict) -> None:
    """Raise `event` (one of EVENTS) once: `key` names this occurrence, so raising it again
    (a replayed request, a second sweep) delivers nothing more."""
    hooks = [hook for hook in db.session.scalars(select(Webhook).where(Webhook.active))
             if event in hook.events]
    if not hooks:
        return
    body = {"event": event, **payload}
    rows = [{"webhook_id": hook.id, "event": event, "event_key": f"{event}:{key}",
             "payload": body, "status": "pending", "attempts": 0, "log": []} for hook in hooks]
    dialect = postgresql if db.session.get_bind().dialect.name == "postgresql" else sqlite
    made = db.session.scalars(
        dialect.insert(WebhookDelivery).values(rows)
        .on_conflict_do_nothing(index_elements=["webhook_id", "event_key"])
        .returning(WebhookDelivery.id)).all()
    for delivery_id in made:
        queue(delivery_id)


def queue(delivery_id: int) -> None:
    tasks.after_commit("notifications", DELIVER, delivery_id,
                       task_id=f"webhook-{delivery_id}")


def visit_payload(visit) -> dict:
    """What a visit's event says: no author (a mystery shopper stays unknown to whoever the
    endpoint is), the store, the checklist and the score."""
    store = visit.store
    return {"visit": {"id": str(visit.id), "kind": visit.kind, "status": visit.status,
                      "started_at": visit.started_at.isoformat(),
                      "checklist": visit.checklist_version.checklist.slug,
                      "total": visit.total, "grade": visit.grade, "red_line": visit.red_line,
                      "red_lines": [{"item": line.get("item"), "text": line.get("text")}
                                    for line in (visit.score or {}).get("red_lines", ())]},
            "store": _store(store)}


def _store(store) -> dict:
    return {"id": store.id, "code": store.code, "name": store.name,
            "region": store.region.code if store.region else None}


def visit_submitted(visit) -> None:
    key = f"{visit.id}:{visit.submitted_at.isoformat()}"
    emit("visit.submitted", key, visit_payload(visit))
    if visit.red_line:
        emit("visit.red_line", key, visit_payload(visit))


def visit_published(visit) -> None:
    emit("visit.published", str(visit.id), visit_payload(visit))


def visit_returned(visit) -> None:
    emit("visit.returned", f"{visit.id}:{visit.submitted_at.isoformat()}",
         {**visit_payload(visit), "comment": visit.review_comment})


def action_overdue(action) -> None:
    emit("action.overdue", f"{action.id}:{action.due_date.isoformat()}",
         {"action": {"id": action.id, "title": action.title, "status": action.status,
                     "due_date": action.due_date.isoformat(),
                     "visit_id": str(action.visit_id) if action.visit_id else None},
          "store": _store(action.store)})


def dispute_overdue(dispute) -> None:
    emit("dispute.overdue", f"{dispute.id}:{dispute.due_at.isoformat()}",
         {"dispute": {"id": dispute.id, "reference": dispute.reference,
                      "category": dispute.category, "due_at": dispute.due_at.isoformat()},
          "store": _store(dispute.store)})
