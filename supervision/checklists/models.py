"""Checklists and their immutable versions."""

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from supervision.db import JSONType, UTCDateTime, db, utcnow


class Checklist(db.Model):
    __tablename__ = "checklists"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    # Retired checklists keep their versions for old visits but take no new visit.
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    versions: Mapped[list["ChecklistVersion"]] = relationship(
        back_populates="checklist", order_by="ChecklistVersion.version"
    )


class ChecklistVersion(db.Model):
    """One version, never changed once written: visits are scored against it forever."""

    __tablename__ = "checklist_versions"
    __table_args__ = (
        UniqueConstraint("checklist_id", "version"),
        UniqueConstraint("checklist_id", "content_hash"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    checklist_id: Mapped[int] = mapped_column(ForeignKey("checklists.id"), index=True)
    version: Mapped[int]
    content_hash: Mapped[str] = mapped_column(String(64))
    title: Mapped[dict] = mapped_column(JSONType)
    source_name: Mapped[str] = mapped_column(String(255))
    # Loaded when read: a visit's request needs only the parsed definition, cached by hash.
    source_text: Mapped[str] = mapped_column(Text, deferred=True)
    definition: Mapped[dict] = mapped_column(JSONType, deferred=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    checklist: Mapped[Checklist] = relationship(back_populates="versions")
