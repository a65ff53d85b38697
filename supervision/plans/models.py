"""Audit plans, the due visits they (and failed visits) generate, and mystery waves."""

import uuid
from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from supervision.db import JSONType, UTCDateTime, db, utcnow

# due: waiting to be done in its window; done: fulfilled by a visit; overdue: its window passed
# and it can still be done (late) until the next one of its plan and store opens; missed: that
# next one opened (or its plan ended) and it was never done. A plan's edit deletes the due
# visits still to come and makes them again (plans/services.py).
DUE_STATUSES = ("due", "done", "overdue", "missed")
DUE_OPEN = ("due", "overdue")
DUE_KINDS = ("plan", "followup")
WAVE_STATUSES = ("draft", "confirmed")


class AuditPlan(db.Model):
    """A recurring plan of audits: which stores, which checklist, how often, who.

    Stores: `store_ids` (a list), else `tag` (stores of the region carrying it), else the whole
    region. Recurrence: {"every_days": N} | {"per_month": N} | {"weekdays": [0..6]} (Monday 0),
    counted from `starts_on` in each store's own time zone."""

    __tablename__ = "audit_plans"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(160))
    region_id: Mapped[int] = mapped_column(ForeignKey("regions.id"), index=True)
    checklist_id: Mapped[int] = mapped_column(ForeignKey("checklists.id"))
    store_ids: Mapped[list | None] = mapped_column(JSONType)
    tag: Mapped[str | None] = mapped_column(String(32))
    recurrence: Mapped[dict] = mapped_column(JSONType)
    window_days: Mapped[int] = mapped_column(Integer, default=1)  # days to do each one in
    supervisor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # None: any
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Due visits exist for the occurrences up to this day (the sweep extends the horizon).
    generated_until: Mapped[date | None] = mapped_column(Date)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    region: Mapped["Region"] = relationship()  # noqa: F821
    checklist: Mapped["Checklist"] = relationship()  # noqa: F821
    supervisor: Mapped["User | None"] = relationship(foreign_keys=[supervisor_id])  # noqa: F821


class DueVisit(db.Model):
    """One visit that should happen: an occurrence of a plan, or the follow-up of a failed visit
    (`source_visit_id`, with the items that failed). Dates are the store's local dates."""

    __tablename__ = "due_visits"
    __table_args__ = (
        UniqueConstraint("plan_id", "store_id", "due_from"),
        Index("ix_due_visits_store_due", "store_id", "due_from"),
        Index("ix_due_visits_status_until", "status", "due_until"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), default="plan")
    plan_id: Mapped[int | None] = mapped_column(ForeignKey("audit_plans.id"))
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"))
    checklist_id: Mapped[int] = mapped_column(ForeignKey("checklists.id"))
    supervisor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    due_from: Mapped[date] = mapped_column(Date)
    due_until: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="due")
    visit_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("visits.id"), index=True)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    source_visit_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("visits.id"),
                                                              index=True)
    items: Mapped[list | None] = mapped_column(JSONType)  # follow-up: the items that failed
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    plan: Mapped[AuditPlan | None] = relationship()
    store: Mapped["Store"] = relationship()  # noqa: F821
    checklist: Mapped["Checklist"] = relationship()  # noqa: F821
    visit: Mapped["Visit | None"] = relationship(foreign_keys=[visit_id])  # noqa: F821
    source_visit: Mapped["Visit | None"] = relationship(  # noqa: F821
        foreign_keys=[source_visit_id])


class Wave(db.Model):
    """A mystery wave: a period, a checklist, a scenario mix ({scenario: share}), the stores
    (`store_ids`, else the whole region) and rules ({"peak": n, "offpeak": n, "lockout_days": n,
    "shopper_ids": [...] or null for the region's shoppers}). Its proposals are assignments with
    status "proposed" until the manager confirms the wave."""

    __tablename__ = "waves"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(160))
    region_id: Mapped[int] = mapped_column(ForeignKey("regions.id"), index=True)
    checklist_id: Mapped[int] = mapped_column(ForeignKey("checklists.id"))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    scenario_mix: Mapped[dict] = mapped_column(JSONType, default=dict)
    store_ids: Mapped[list | None] = mapped_column(JSONType)
    rules: Mapped[dict] = mapped_column(JSONType, default=dict)
    status: Mapped[str] = mapped_column(String(16), default="draft")
    note: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    region: Mapped["Region"] = relationship()  # noqa: F821
    checklist: Mapped["Checklist"] = relationship()  # noqa: F821
