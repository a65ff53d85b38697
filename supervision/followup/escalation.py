"""Reminders and escalation of agreed actions not done in time, by the stores' own calendars.

On its due day an action still agreed (or reopened) reminds the store's managers; 3 days after
it, it is escalated to the region's managers. Each step is notified once per due date (the
notification's once_key), so a sweep can run as often as one likes, from the job worker
(`flask jobs worker` runs one every ACTION_SWEEP_SECONDS) or from cron (`flask actions sweep`),
and after a crash or a restart nothing goes twice. A step missed while nothing swept is sent
at the next sweep."""

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from supervision.db import db, utcnow
from supervision.followup.duedates import local_date
from supervision.followup.models import ACTION_PENDING, Action, Dispute
from supervision.notifications import triggers as notifications
from supervision.stores.models import Store
from supervision.webhooks import events as webhook_events

ESCALATE_AFTER_DAYS = 3


def sweep(now: datetime) -> dict[str, int]:
    """Remind and escalate what is due at `now`; returns how many notifications went out.
    Flushes; the caller commits."""
    sent = {"reminded": 0, "escalated": 0}
    hooked = webhook_events.listened("action.overdue")
    for action in _due_actions(now):
        today = local_date(now, action.store.timezone)
        if today < action.due_date:
            continue
        sent["reminded"] += len(notifications.action_due(action))
        late = (today - action.due_date).days
        if late > 0 and hooked:
            webhook_events.action_overdue(action)
        if late >= ESCALATE_AFTER_DAYS:
            sent["escalated"] += len(notifications.action_escalated(action, late))
    if webhook_events.listened("dispute.overdue"):
        for dispute in db.session.scalars(select(Dispute).where(
                Dispute.status == "open", Dispute.due_at < now).order_by(Dispute.id)):
            webhook_events.dispute_overdue(dispute)
    return sent


def _due_actions(now: datetime) -> list[Action]:
    """Pending actions due by `now` in some time zone (narrowed in SQL by a day on the side of
    the zones ahead of UTC; each store's own date decides)."""
    latest = (now + timedelta(days=1)).date()
    return list(db.session.scalars(
        select(Action).where(Action.status.in_(ACTION_PENDING), Action.due_date <= latest)
        .order_by(Action.id)
        .options(selectinload(Action.store).selectinload(Store.region))))


def sweep_task() -> dict[str, int]:
    """A sweep now, committed: what the job worker runs every ACTION_SWEEP_SECONDS (the plans'
    due visits too: lateness and the horizon)."""
    from supervision.plans import services as plans

    now = utcnow()
    sent = sweep(now)
    plans.sweep(now)
    db.session.commit()
    if any(sent.values()):
        current_app.logger.info("action sweep: %(reminded)s reminded, %(escalated)s escalated",
                                sent)
    return sent
