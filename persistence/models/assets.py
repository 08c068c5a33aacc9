"""Asset tables: the equipment kept at workplaces, and the history of its status and condition.

A serial is unique in its tenant, so the schema refuses a second asset with the same serial even
when two requests race.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from advanced_alchemy.types import DateTimeUTC
from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from persistence.base import AuditedModel, TenantScoped


class Asset(TenantScoped, AuditedModel):
    """A piece of equipment at a workplace (a fridge, a scanner, a ladder) with its current status."""

    __tablename__ = "asset"
    __table_args__ = (
        UniqueConstraint("tenant_id", "serial", name="uq_asset_serial"),
        Index("ix_asset_workplace_status", "workplace_id", "status"),
    )

    workplace_id: Mapped[UUID] = mapped_column(ForeignKey("workplace.id", ondelete="RESTRICT"))
    type: Mapped[str] = mapped_column(String(50))
    serial: Mapped[str] = mapped_column(String(100))
    model: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[str] = mapped_column(String(16), default="in_service")
    condition: Mapped[str] = mapped_column(String(100), default="")


class AssetConditionEntry(TenantScoped, AuditedModel):
    """One change of an asset's status or condition: who made it, when, and why (the first one is its creation)."""

    __tablename__ = "asset_condition_entry"
    __table_args__ = (Index("ix_asset_condition_entry_asset_changed", "asset_id", "changed_at"),)

    asset_id: Mapped[UUID] = mapped_column(ForeignKey("asset.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(16))
    condition: Mapped[str] = mapped_column(String(100))
    note: Mapped[str] = mapped_column(String(1000), default="")
    changed_by: Mapped[UUID | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))
    changed_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
