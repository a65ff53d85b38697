"""Users and the regions they work in."""

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import Boolean, Column, ForeignKey, Integer, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates
from werkzeug.security import check_password_hash, generate_password_hash

from supervision.db import UTCDateTime, db, utcnow

# A store manager (厅主任/店长) is linked to stores, not regions: it sees its stores' published
# visits in the store version, their actions and disputes, and keeps their staff roster.
ROLES = ("admin", "manager", "supervisor", "shopper", "store_manager")

user_regions = Table(
    "user_regions",
    db.metadata,
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("region_id", Integer, ForeignKey("regions.id", ondelete="CASCADE"), primary_key=True),
)

user_stores = Table(
    "user_stores",
    db.metadata,
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("store_id", Integer, ForeignKey("stores.id", ondelete="CASCADE"), primary_key=True),
)


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(256))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    locale: Mapped[str | None] = mapped_column(String(8))
    phone: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Raised by a password change, a logout everywhere or a deactivation: every cookie session,
    # remember-me cookie and API token issued under an earlier generation stops working.
    credential_generation: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    regions: Mapped[list["Region"]] = relationship(  # noqa: F821
        secondary=user_regions, back_populates="users", order_by="Region.id"
    )
    # A store manager's stores (other roles have none).
    stores: Mapped[list["Store"]] = relationship(  # noqa: F821
        secondary=user_stores, order_by="Store.id"
    )

    @property
    def is_active(self) -> bool:
        return self.active

    def get_id(self) -> str:
        """What the session and the remember-me cookie keep: they end with the generation."""
        return f"{self.id}:{self.credential_generation}"

    def end_sessions(self) -> None:
        """Void every cookie session, remember-me cookie and API token issued until now."""
        self.credential_generation = (self.credential_generation or 0) + 1

    def set_password(self, password: str) -> None:
        if self.password_hash:  # a new account has no session to end
            self.end_sessions()
        self.password_hash = generate_password_hash(password)

    @validates("active")
    def _end_sessions_on_deactivation(self, _key: str, active: bool) -> bool:
        """However an account is deactivated (API, page, import), its sessions end for good."""
        if self.active and not active:
            self.end_sessions()
        return active

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    def __repr__(self) -> str:
        return f"<User {self.email} {self.role}>"
