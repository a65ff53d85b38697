"""Visits, the answers given in them and their photos."""

import uuid
from datetime import datetime

from sqlalchemy import Boolean, Float, ForeignKey, Integer, String, Text, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from supervision.db import JSONType, UTCDateTime, db, utcnow
from supervision.feed.changes import Changes
from supervision.scoring.digest import digest_of

VISIT_KINDS = ("audit", "mystery")
# draft → submitted → published (audits publish on submission); a reviewer may reject a
# mystery visit back to the shopper, who fixes and submits it again.
VISIT_STATUSES = ("draft", "submitted", "published", "rejected")
PHOTO_STATUSES = ("announced", "received", "processed", "corrupt")
EXCLUSION_REASONS = ("reshop", "calibration")
# What changed a visit after its submission (see VisitChange).
CHANGE_KINDS = ("review_edit", "query_amend", "resubmission")


class Visit(Changes, db.Model):
    __tablename__ = "visits"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)  # made by the client
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"), index=True)
    checklist_version_id: Mapped[int] = mapped_column(ForeignKey("checklist_versions.id"))
    kind: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="draft", index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    assignment_id: Mapped[int | None] = mapped_column(ForeignKey("assignments.id"), index=True)

    started_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    accuracy_m: Mapped[float | None] = mapped_column(Float)
    moments: Mapped[list] = mapped_column(JSONType, default=list)  # [{moment, at}]
    notes: Mapped[str | None] = mapped_column(Text)
    # Flags for the reviewer: outside the assignment window, far from the store, …
    flags: Mapped[list] = mapped_column(JSONType, default=list)

    # Frozen at submission: the score as computed against the visit's checklist version.
    score: Mapped[dict | None] = mapped_column(JSONType)
    total: Mapped[float | None] = mapped_column(Float)
    grade: Mapped[str | None] = mapped_column(String(32))
    red_line: Mapped[bool] = mapped_column(Boolean, default=False)
    # What the period reports and the dashboard read of the score (scoring/digest.py): set
    # with the score, whoever sets it.
    score_digest: Mapped[dict | None] = mapped_column(JSONType)

    # The hash of the last accepted body, so that a replayed PUT is recognised as harmless.
    body_hash: Mapped[str | None] = mapped_column(String(64))
    # The client's edit counter of the last accepted body: a lower one is a late replay.
    revision: Mapped[int] = mapped_column(Integer, default=0)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    review_comment: Mapped[str | None] = mapped_column(Text)
    # The reviewer's grade of the shop (1–10), with a comment: the shopper's track record.
    review_grade: Mapped[int | None] = mapped_column(Integer)
    review_grade_comment: Mapped[str | None] = mapped_column(Text)
    # Until when the store may query a published mystery result (set at publication).
    queries_close_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Why the visit is left out of averages and counts (kept and shown all the same):
    # "reshop" (a query ruled for a re-shop), "calibration" (a second rating of another visit).
    excluded: Mapped[str | None] = mapped_column(String(16))
    # A calibration visit: the visit of the same store and time it double-scores.
    calibrates_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("visits.id"), index=True)

    store: Mapped["Store"] = relationship()  # noqa: F821
    author: Mapped["User"] = relationship(foreign_keys=[author_id])  # noqa: F821
    calibrates: Mapped["Visit | None"] = relationship(remote_side=[id])
    checklist_version: Mapped["ChecklistVersion"] = relationship()  # noqa: F821
    responses: Mapped[list["Response"]] = relationship(
        back_populates="visit", cascade="all, delete-orphan", order_by="Response.id"
    )
    photos: Mapped[list["Photo"]] = relationship(
        back_populates="visit", cascade="all, delete-orphan", order_by="Photo.announced_at"
    )
    signoff: Mapped["Signoff | None"] = relationship(back_populates="visit", uselist=False)

    @validates("score")
    def _digest_with_score(self, _key, score):
        self.score_digest = digest_of(score)
        return score


class Response(db.Model):
    __tablename__ = "responses"
    __table_args__ = (UniqueConstraint("visit_id", "item_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("visits.id", ondelete="CASCADE"))
    item_id: Mapped[str] = mapped_column(String(64))
    value: Mapped[object | None] = mapped_column(JSONType)
    na: Mapped[bool] = mapped_column(Boolean, default=False)
    note: Mapped[str | None] = mapped_column(Text)
    staff: Mapped[str | None] = mapped_column(String(120))
    # When the collector gave the answer (the device's clock): the time of a finding.
    at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The collector marked the item "needs attention": the report lists it first.
    flagged: Mapped[bool] = mapped_column(Boolean, default=False)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    visit: Mapped[Visit] = relationship(back_populates="responses")


class Photo(db.Model):
    """A photo announced by a visit, and once its bytes arrive, the stored content."""

    __tablename__ = "photos"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)  # made by the client
    visit_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("visits.id", ondelete="CASCADE"), index=True
    )
    item_id: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="announced")
    content_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    content_type: Mapped[str | None] = mapped_column(String(32))
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    size_bytes: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    announced_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    received_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the photo was taken, as the device says (reports print it under the photo).
    taken_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Where the device was when the photo was taken (read on the device before the shrink).
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    accuracy_m: Mapped[float | None] = mapped_column(Float)

    visit: Mapped[Visit] = relationship(back_populates="photos")


class Signoff(db.Model):
    """The store manager's sign-off of an audit: signed on the supervisor's tablet (a PNG of the
    signature, stored like a photo) or acknowledged later in their own app. A signed visit is
    locked."""

    __tablename__ = "signoffs"

    visit_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("visits.id", ondelete="CASCADE"), primary_key=True)
    name: Mapped[str] = mapped_column(String(120))  # who signed, as they wrote it
    comment: Mapped[str | None] = mapped_column(Text)
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime)  # the device's clock
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    accuracy_m: Mapped[float | None] = mapped_column(Float)
    # The signature PNG's content hash (its bytes are kept under photos.original_key); none
    # for an acknowledgement in the store manager's own app.
    signature_hash: Mapped[str | None] = mapped_column(String(64))
    # The store manager's account when they acknowledged in their app.
    signer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    body_hash: Mapped[str] = mapped_column(String(64))  # a replay of the same body is harmless
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    visit: Mapped[Visit] = relationship(back_populates="signoff")


class Submission(db.Model):
    """One submission of a visit as it was sent: the first, and each one after the reviewer
    returned the visit. `changes` lists what differs from the submission before."""

    __tablename__ = "visit_submissions"
    __table_args__ = (UniqueConstraint("visit_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("visits.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)  # 1, 2, … in the order submitted
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    submitted_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    # The reviewer's comment this submission answers (None for the first).
    answers_comment: Mapped[str | None] = mapped_column(Text)
    # The visit as submitted: {responses, photos, moments, notes, total}.
    snapshot: Mapped[dict] = mapped_column(JSONType)
    changes: Mapped[list] = mapped_column(JSONType, default=list)


class VisitChange(db.Model):
    """A change to a visit after its submission, kept for good: a reviewer's edit, an answer
    amended on the store's query, a resubmission after the visit was returned. Who, when, why,
    each old and new value ([{item, field, old, new}], as in Submission.changes), and the total
    before and after."""

    __tablename__ = "visit_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("visits.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # None: the system
    reason: Mapped[str | None] = mapped_column(Text)
    query_id: Mapped[int | None] = mapped_column(ForeignKey("visit_queries.id"))
    changes: Mapped[list] = mapped_column(JSONType, default=list)
    total_before: Mapped[float | None] = mapped_column(Float)
    total_after: Mapped[float | None] = mapped_column(Float)
