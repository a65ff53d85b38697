"""Regions and the stores (service halls) in them."""

from datetime import datetime

from sqlalchemy import Boolean, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from supervision.accounts.models import user_regions
from supervision.db import JSONType, UTCDateTime, db, utcnow
from supervision.localtime import local_zone


class Region(db.Model):
    __tablename__ = "regions"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[str | None] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    stores: Mapped[list["Store"]] = relationship(back_populates="region", order_by="Store.code")
    users: Mapped[list["User"]] = relationship(  # noqa: F821
        secondary=user_regions, back_populates="regions"
    )


class Store(db.Model):
    __tablename__ = "stores"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(160))
    name_en: Mapped[str | None] = mapped_column(String(160))
    address: Mapped[str | None] = mapped_column(Text)
    region_id: Mapped[int] = mapped_column(ForeignKey("regions.id"), index=True)
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    # A visit sent from farther away than this is flagged for the reviewer.
    geofence_m: Mapped[int] = mapped_column(Integer, default=300)
    # Days of this store's visits, actions and disputes are counted in it; TIMEZONE by default.
    timezone: Mapped[str] = mapped_column(String(64), default=local_zone)
    manager_name: Mapped[str | None] = mapped_column(String(120))
    # Labels plans and waves select stores by, such as the store class ("A", "B", "C").
    tags: Mapped[list | None] = mapped_column(JSONType, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    region: Mapped[Region] = relationship(back_populates="stores")


class Staff(db.Model):
    """A person of a store's roster, kept by its store manager: actions and findings name them."""

    __tablename__ = "staff"

    id: Mapped[int] = mapped_column(primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    badge: Mapped[str | None] = mapped_column(String(32))  # 工号
    position: Mapped[str | None] = mapped_column(String(64))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    store: Mapped[Store] = relationship()
