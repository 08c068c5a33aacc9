"""Shifts, breaks, overtime and each tenant's work policy: the tables around an attendance record.

A shift is either one-off (two instants) or weekly (weekdays, a local start time and a duration,
between two dates in its workplace's time zone); occurrences are expanded by the application.
"""

from __future__ import annotations

from datetime import date, datetime, time
from uuid import UUID

from advanced_alchemy.types import DateTimeUTC
from sqlalchemy import (
    ARRAY,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    Time,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from persistence.base import AuditedModel, Model, TenantScoped


class Shift(TenantScoped, AuditedModel):
    """A planned shift of one person at one workplace: one-off, or weekly recurring."""

    __tablename__ = "shift"
    __table_args__ = (
        CheckConstraint(
            "(kind = 'one_off' AND starts_at IS NOT NULL AND ends_at > starts_at) OR "
            "(kind = 'weekly' AND start_time IS NOT NULL AND duration_minutes > 0 AND from_date IS NOT NULL "
            "AND (until_date IS NULL OR until_date >= from_date))",
            name="shape",
        ),
        Index("ix_shift_user", "user_id"),
        Index("ix_shift_workplace", "workplace_id"),
    )

    user_id: Mapped[UUID] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"))
    workplace_id: Mapped[UUID] = mapped_column(ForeignKey("workplace.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(8))
    starts_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    ends_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    weekdays: Mapped[list[str]] = mapped_column(ARRAY(String(3)), default=list)
    """``mon`` .. ``sun``, for a weekly shift."""
    start_time: Mapped[time | None] = mapped_column(Time)
    """The local start time in the workplace's time zone, for a weekly shift."""
    duration_minutes: Mapped[int | None] = mapped_column(Integer)
    from_date: Mapped[date | None] = mapped_column(Date)
    until_date: Mapped[date | None] = mapped_column(Date)
    """The last local date an occurrence may start on; open-ended when null."""
    note: Mapped[str] = mapped_column(String(500), default="")
    created_by: Mapped[UUID | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    """Set when the shift is called off: it keeps its row (and history) but has no occurrences any more."""
    cancelled_by: Mapped[UUID | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))
    cancel_reason: Mapped[str] = mapped_column(String(500), default="")


class ShiftSkip(TenantScoped, AuditedModel):
    """One occurrence of a weekly shift called off: the shift has no occurrence starting on ``day`` any more."""

    __tablename__ = "shift_skip"
    __table_args__ = (UniqueConstraint("shift_id", "day", name="uq_shift_skip_day"),)

    shift_id: Mapped[UUID] = mapped_column(ForeignKey("shift.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)
    """The local date (workplace's time zone) the cancelled occurrence starts on."""
    starts_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    """When the cancelled occurrence was to start, as it was planned."""
    reason: Mapped[str] = mapped_column(String(500))
    cancelled_by: Mapped[UUID | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))


class AttendanceBreak(TenantScoped, AuditedModel):
    """A break during an attendance; at most one open break per attendance."""

    __tablename__ = "attendance_break"
    __table_args__ = (
        Index("uq_attendance_break_open", "attendance_id", unique=True, postgresql_where=text("ended_at IS NULL")),
        Index("ix_attendance_break_user_started", "user_id", "started_at"),
    )

    attendance_id: Mapped[UUID] = mapped_column(ForeignKey("attendance_record.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[UUID] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"))
    started_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))


class WorkPolicy(TenantScoped, AuditedModel):
    """A tenant's attendance and overtime rules; a tenant without a row has the defaults of the columns."""

    __tablename__ = "work_policy"
    __table_args__ = (Index("uq_work_policy_tenant", "tenant_id", unique=True),)

    geofence: Mapped[str] = mapped_column(String(8), default="refuse")
    """``refuse`` a clock-in or -out outside the geofence, or accept it and ``flag`` it."""
    late_after_minutes: Mapped[int] = mapped_column(Integer, default=10)
    escalate_after_minutes: Mapped[int] = mapped_column(Integer, default=20)
    """Minutes after the person was told they are late before their supervisors are."""
    rest_days: Mapped[list[str]] = mapped_column(ARRAY(String(3)), default=lambda: ["sat", "sun"])
    overtime_daily_minutes: Mapped[int | None] = mapped_column(Integer)
    overtime_weekly_minutes: Mapped[int | None] = mapped_column(Integer)
    overtime_on_rest_days: Mapped[bool] = mapped_column(Boolean, default=False)
    """Every minute worked on a rest day is overtime."""


class OvertimeRecord(TenantScoped, AuditedModel):
    """Overtime of one person for one local day or week, as the tenant's rules computed it, and its decision."""

    __tablename__ = "overtime_record"
    __table_args__ = (
        Index(
            "uq_overtime_pending",
            "user_id",
            "kind",
            "period_start",
            unique=True,
            postgresql_where=text("status = 'pending'"),
        ),
        Index("ix_overtime_user_period", "user_id", "period_start"),
    )

    user_id: Mapped[UUID] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(8))
    """``daily``, ``rest_day`` (both for one local day) or ``weekly`` (for the week starting on Monday)."""
    period_start: Mapped[date] = mapped_column(Date)
    timezone: Mapped[str] = mapped_column(String(64))
    minutes: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    decided_by: Mapped[UUID | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    note: Mapped[str] = mapped_column(Text, default="")


class AttendanceChange(TenantScoped, Model):
    """A clock-in instant whose local day's attendance summary must be rebuilt.

    Written by triggers on ``attendance_record`` and ``attendance_break`` (the old and the new instant of
    every insert, update and delete), consumed by the summary refresh; so a corrected or deleted stay is
    neither counted twice nor lost, and a row committed while a refresh ran waits for the next one.
    """

    __tablename__ = "attendance_change"

    user_id: Mapped[UUID] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"))
    clock_in_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
