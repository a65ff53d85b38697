"""Mystery-shop assignments, corrective actions and dispute records (争议记录单)."""

import uuid
from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Integer, String, Text, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship

from supervision.db import JSONType, UTCDateTime, db, utcnow
from supervision.feed.changes import Changes
from supervision.followup.duedates import COMPLAINT_CLASS, is_overdue_date

# proposed: made by a wave and not confirmed yet (the shopper is not told; it is not shown).
ASSIGNMENT_STATUSES = ("proposed", "planned", "done", "cancelled")
# proposed (from a visit's gaps) → agreed (with the store: owner from the roster, due date) →
# done (the store's note and photos) → verified (approved, or passed at a later visit); a
# rejected fix is reopened (and can be done again); a proposal not taken up is dismissed with
# a reason, and kept.
ACTION_STATUSES = ("proposed", "agreed", "done", "verified", "reopened", "dismissed")
# Agreed and not yet shown fixed: what can fall due, be reminded and escalated.
ACTION_PENDING = ("agreed", "reopened")
# The seeds' time limits for closing a complaint, by class.
DISPUTE_CATEGORIES = ("service", "return", "quality_check", "factory_repair", "emergency")
DISPUTE_STATUSES = ("open", "closed")
# A store's query of an item of a published mystery result: open until the reviewer rules to
# uphold the result, amend the answer (the visit is scored again) or order a re-shop.
QUERY_STATUSES = ("open", "upheld", "amended", "reshop")
QUERY_RULINGS = {"uphold": "upheld", "amend": "amended", "reshop": "reshop"}


class Assignment(db.Model):
    __tablename__ = "assignments"

    id: Mapped[int] = mapped_column(primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"), index=True)
    checklist_id: Mapped[int] = mapped_column(ForeignKey("checklists.id"))
    shopper_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    window_start: Mapped[datetime] = mapped_column(UTCDateTime)
    window_end: Mapped[datetime] = mapped_column(UTCDateTime)
    scenario: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="planned")
    wave_id: Mapped[int | None] = mapped_column(ForeignKey("waves.id"), index=True)
    slot: Mapped[str | None] = mapped_column(String(16))  # a wave's "peak" or "offpeak"
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    store: Mapped["Store"] = relationship()  # noqa: F821
    checklist: Mapped["Checklist"] = relationship()  # noqa: F821
    shopper: Mapped["User"] = relationship(foreign_keys=[shopper_id])  # noqa: F821
    # The visits made for it (one once submitted; Visit.assignment_id is the link).
    visits: Mapped[list["Visit"]] = relationship(  # noqa: F821
        viewonly=True, order_by="Visit.started_at", foreign_keys="Visit.assignment_id"
    )


class Action(Changes, db.Model):
    """A corrective action agreed after a visit, followed until verified at a later visit."""

    __tablename__ = "actions"

    id: Mapped[int] = mapped_column(primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"), index=True)
    visit_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("visits.id"), index=True)
    item_id: Mapped[str | None] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(Text)
    coaching_question: Mapped[str | None] = mapped_column(Text)
    # Both languages of a generated title and coaching question ({"title": {"zh", "en"},
    # "question": {…}}); a person's edit of either drops its entry, and `title` then speaks.
    texts: Mapped[dict | None] = mapped_column(JSONType)
    owner: Mapped[str | None] = mapped_column(String(120))
    owner_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    due_date: Mapped[date | None] = mapped_column(Date, index=True)
    status: Mapped[str] = mapped_column(String(16), default="agreed", index=True)
    agreed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    dismiss_reason: Mapped[str | None] = mapped_column(Text)
    done_note: Mapped[str | None] = mapped_column(Text)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    evidence_photo_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    verified_visit_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("visits.id"))
    # The last approval or rejection of the store's fix.
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision_comment: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    store: Mapped["Store"] = relationship()  # noqa: F821
    owner_staff: Mapped["Staff | None"] = relationship()  # noqa: F821
    evidence: Mapped[list["ActionEvidence"]] = relationship(
        back_populates="action", order_by="ActionEvidence.received_at")

    @property
    def overdue(self) -> bool:
        """Agreed, not done yet, and its due date is over in the store's time zone (a proposal
        nobody agreed is never overdue)."""
        return self.status in ACTION_PENDING and is_overdue_date(
            self.due_date, utcnow(), self.store.timezone)

    def title_in(self, lang: str) -> str:
        return _in(self.texts, "title", lang) or self.title

    def question_in(self, lang: str) -> str | None:
        return _in(self.texts, "question", lang) or self.coaching_question


class StorePhoto:
    """The columns of a photo the store takes in its app (stored like visit photos, by content
    hash): received → processed, or corrupt."""

    status: Mapped[str] = mapped_column(String(16), default="received")
    content_hash: Mapped[str] = mapped_column(String(64), index=True)
    content_type: Mapped[str] = mapped_column(String(32))
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    size_bytes: Mapped[int | None] = mapped_column(Integer)
    taken_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the device's clock
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ActionEvidence(StorePhoto, db.Model):
    """A photo the store took in the app to show an action fixed (stored like visit photos)."""

    __tablename__ = "action_evidence"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)  # made by the client
    action_id: Mapped[int] = mapped_column(ForeignKey("actions.id"), index=True)

    action: Mapped[Action] = relationship(back_populates="evidence")


def _in(texts: dict | None, key: str, lang: str) -> str | None:
    pair = (texts or {}).get(key)
    return (pair["zh"] if lang.lower().startswith("zh") else pair["en"]) if pair else None


class Dispute(Changes, db.Model):
    """A customer dispute recorded by the store: the matter, who took it, the promised reply."""

    __tablename__ = "disputes"

    id: Mapped[int] = mapped_column(primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"), index=True)
    visit_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("visits.id"), index=True)
    reference: Mapped[str] = mapped_column(String(32), unique=True)
    category: Mapped[str] = mapped_column(String(24))
    matter: Mapped[str] = mapped_column(Text)
    customer_name: Mapped[str | None] = mapped_column(String(120))
    customer_contact: Mapped[str | None] = mapped_column(String(120))
    customer_request: Mapped[str | None] = mapped_column(Text)
    first_handler: Mapped[str] = mapped_column(String(120))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    promised_reply_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    callbacks: Mapped[list] = mapped_column(JSONType, default=list)  # [{at, by, outcome}]
    store_opinion: Mapped[str | None] = mapped_column(Text)
    result: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    store: Mapped["Store"] = relationship()  # noqa: F821

    @property
    def complaint_class(self) -> str:
        """The seeds' class: service, quality or emergency."""
        return COMPLAINT_CLASS[self.category]

    @property
    def overdue(self) -> bool:
        return self.status == "open" and self.due_at < utcnow()

    @property
    def reply_overdue(self) -> bool:
        """The promised time of the first reply has passed with no callback recorded."""
        return (self.status == "open" and not self.callbacks
                and self.promised_reply_at is not None and self.promised_reply_at < utcnow())


class Query(db.Model):
    """The store's query of one item of a published mystery result, within the query window:
    a factual reason and optional counter-evidence photos; the reviewer's ruling and its
    reason. Never names the shopper."""

    __tablename__ = "visit_queries"
    __table_args__ = (UniqueConstraint("visit_id", "item_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("visits.id", ondelete="CASCADE"), index=True)
    item_id: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)
    raised_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    body_hash: Mapped[str] = mapped_column(String(64))  # the same query again is harmless
    ruling_comment: Mapped[str | None] = mapped_column(Text)
    ruled_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    ruled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # An amended answer: the response's value before and after ({value, na}).
    old_value: Mapped[dict | None] = mapped_column(JSONType)
    new_value: Mapped[dict | None] = mapped_column(JSONType)
    # A re-shop ruling's new assignment (its visit replaces this visit's result).
    reshop_assignment_id: Mapped[int | None] = mapped_column(ForeignKey("assignments.id"))

    evidence: Mapped[list["QueryEvidence"]] = relationship(
        back_populates="query", order_by="QueryEvidence.received_at")


class QueryEvidence(StorePhoto, db.Model):
    """A photo the store sent with its query (a receipt, the queue ticket…), stored like
    visit photos."""

    __tablename__ = "query_evidence"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)  # made by the client
    query_id: Mapped[int] = mapped_column(
        ForeignKey("visit_queries.id", ondelete="CASCADE"), index=True)

    query: Mapped[Query] = relationship(back_populates="evidence")
