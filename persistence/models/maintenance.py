"""Maintenance tables: requests on an asset or a workplace with their SLA due time, status history and
comments, and each tenant's SLA hours by priority.

Exactly one of asset and workplace is named, and the schema holds it.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from uuid import UUID

from advanced_alchemy.types import DateTimeUTC
from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, Numeric, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from persistence.base import AuditedModel, TenantScoped


class MaintenanceRequest(TenantScoped, AuditedModel):
    """Something to repair or service, on one asset or at one workplace, due by its SLA."""

    __tablename__ = "maintenance_request"
    __table_args__ = (
        CheckConstraint("(asset_id IS NULL) <> (workplace_id IS NULL)", name="one_target"),
        CheckConstraint("estimated_cost IS NULL OR estimated_cost >= 0", name="cost_not_negative"),
        # The SLA job looks for active requests past their due time and not yet reported.
        Index(
            "ix_maintenance_request_breach",
            "tenant_id",
            "due_at",
            postgresql_where=text("status IN ('open', 'in_progress', 'on_hold') AND breached_at IS NULL"),
        ),
        Index("ix_maintenance_request_assignee_status", "assignee_id", "status"),
    )

    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    asset_id: Mapped[UUID | None] = mapped_column(ForeignKey("asset.id", ondelete="RESTRICT"), index=True)
    workplace_id: Mapped[UUID | None] = mapped_column(ForeignKey("workplace.id", ondelete="RESTRICT"), index=True)
    priority: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="open")
    assignee_id: Mapped[UUID | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))
    requested_by: Mapped[UUID | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))
    due_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    breached_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    """When the SLA job reported this due time as missed; cleared when the due time moves."""
    estimated_cost: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    resolved_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))


class MaintenanceStep(TenantScoped, AuditedModel):
    """One status change of a request: from which to which, who, when and why (the first is its creation)."""

    __tablename__ = "maintenance_step"
    __table_args__ = (Index("ix_maintenance_step_request_at", "request_id", "at"),)

    request_id: Mapped[UUID] = mapped_column(ForeignKey("maintenance_request.id", ondelete="CASCADE"))
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(String(2000), default="")
    actor_id: Mapped[UUID | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))
    at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))


class MaintenanceComment(TenantScoped, AuditedModel):
    """A comment on a maintenance request."""

    __tablename__ = "maintenance_comment"

    request_id: Mapped[UUID] = mapped_column(ForeignKey("maintenance_request.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[UUID | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))
    body: Mapped[str] = mapped_column(Text)


class MaintenanceSla(TenantScoped, AuditedModel):
    """A tenant's hours from request to due time, per priority (the defaults apply while there is none)."""

    __tablename__ = "maintenance_sla"
    __table_args__ = (
        UniqueConstraint("tenant_id", name="uq_maintenance_sla_tenant_id"),
        CheckConstraint("low_hours > 0 AND normal_hours > 0 AND high_hours > 0 AND urgent_hours > 0", name="positive"),
    )

    low_hours: Mapped[int] = mapped_column(Integer)
    normal_hours: Mapped[int] = mapped_column(Integer)
    high_hours: Mapped[int] = mapped_column(Integer)
    urgent_hours: Mapped[int] = mapped_column(Integer)
    updated_by: Mapped[UUID | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))
