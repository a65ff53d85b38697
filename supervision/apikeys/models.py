"""API keys and the log of their uses."""

from datetime import datetime

from sqlalchemy import Column, ForeignKey, Integer, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship

from supervision.db import UTCDateTime, db, utcnow

# What a key reads: "store" the store version (published visits, never a mystery shopper's
# identity, location or the reviewer's notes; no customer contact in disputes), "internal" what
# a regional manager reads.
KEY_ACCESS = ("store", "internal")

api_key_regions = Table(
    "api_key_regions",
    db.metadata,
    Column("api_key_id", Integer, ForeignKey("api_keys.id", ondelete="CASCADE"),
           primary_key=True),
    Column("region_id", Integer, ForeignKey("regions.id", ondelete="CASCADE"), primary_key=True),
)


class ApiKey(db.Model):
    """A key belongs to no one's login: a password change or a deactivation leaves it working.
    Only the SHA-256 of its secret is kept (the secret is 256 random bits, shown once)."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    prefix: Mapped[str] = mapped_column(String(16))  # the secret's start, to tell keys apart
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    access: Mapped[str] = mapped_column(String(16), default="store")
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    regions: Mapped[list["Region"]] = relationship(  # noqa: F821
        secondary=api_key_regions, order_by="Region.id")
    created_by: Mapped["User | None"] = relationship()  # noqa: F821

    def usable(self, now: datetime) -> bool:
        return self.revoked_at is None and self.expires_at > now


class ApiKeyUse(db.Model):
    """One request made with a key, whatever its answer."""

    __tablename__ = "api_key_uses"

    id: Mapped[int] = mapped_column(primary_key=True)
    api_key_id: Mapped[int] = mapped_column(ForeignKey("api_keys.id", ondelete="CASCADE"),
                                            index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    method: Mapped[str] = mapped_column(String(8))
    path: Mapped[str] = mapped_column(String(500))  # with its query string
    status: Mapped[int] = mapped_column(Integer)
    address: Mapped[str | None] = mapped_column(String(64))  # the caller's IP address
