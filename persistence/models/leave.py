"""Leave tables: the tenant's leave types with their entitlements, and people's requests.

Balances are not stored: they are sums over the requests of a year, so a decision can never leave
a balance out of step with the requests behind it.
"""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

from advanced_alchemy.types import DateTimeUTC
from sqlalchemy import Boolean, CheckConstraint, Date, Float, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from persistence.base import AuditedModel, TenantScoped


class LeaveType(TenantScoped, AuditedModel):
    """A kind of leave (annual, sick, unpaid, or the tenant's own) with its yearly entitlement in days."""

    __tablename__ = "leave_type"
    __table_args__ = (UniqueConstraint("tenant_id", "key", name="uq_leave_type_key"),)

    key: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(100))
    yearly_days: Mapped[float] = mapped_column(Float, default=0.0)
    accrual: Mapped[str] = mapped_column(String(8), default="yearly")
    """``yearly``: the whole entitlement from 1 January; ``monthly``: a twelfth at the start of each month."""
    allow_negative: Mapped[bool] = mapped_column(Boolean, default=False)
    """Requests may exceed the available balance (sick or unpaid leave, say)."""
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class LeaveRequest(TenantScoped, AuditedModel):
    """A request for leave on local dates of the requester's time zone: whole days, or half of one day."""

    __tablename__ = "leave_request"
    __table_args__ = (
        CheckConstraint("end_date >= start_date", name="dates_in_order"),
        CheckConstraint("part = 'full' OR start_date = end_date", name="half_day_alone"),
        Index("ix_leave_request_user_dates", "user_id", "start_date", "end_date"),
        Index("ix_leave_request_dates", "start_date", "end_date"),
    )

    user_id: Mapped[UUID] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"))
    leave_type_id: Mapped[UUID] = mapped_column(ForeignKey("leave_type.id", ondelete="RESTRICT"), index=True)
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    part: Mapped[str] = mapped_column(String(4), default="full")
    """``full`` days, or the ``am`` / ``pm`` half of a single day."""
    days: Mapped[float] = mapped_column(Float)
    """Working days requested (rest days are not counted); 0.5 for a half day."""
    timezone: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default="pending")
    decided_by: Mapped[UUID | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
