"""Report tables: the daily attendance summary the worker keeps, report schedules and the history of their runs.

``attendance_daily`` is an incremental summary: one row per person, workplace and local day (the tenant's
time zone), rebuilt by the worker for the days whose attendance changed, so reports over months read a
few rows per person and day instead of every clock-in and break.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

from advanced_alchemy.types import DateTimeUTC
from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from persistence.base import AuditedModel, TenantScoped


class AttendanceDaily(TenantScoped, AuditedModel):
    """One person's attendance at one workplace on one local day: stays, minutes worked and on break."""

    __tablename__ = "attendance_daily"
    __table_args__ = (
        UniqueConstraint("tenant_id", "user_id", "workplace_id", "day", name="uq_attendance_daily_key"),
        Index("ix_attendance_daily_day", "tenant_id", "day"),
    )

    user_id: Mapped[UUID] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"))
    workplace_id: Mapped[UUID] = mapped_column(ForeignKey("workplace.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)
    stays: Mapped[int] = mapped_column(Integer)
    worked_minutes: Mapped[int] = mapped_column(Integer)
    break_minutes: Mapped[int] = mapped_column(Integer)
    first_in_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    last_out_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))


class ReportSchedule(TenantScoped, AuditedModel):
    """A report run on a cron schedule (in ``timezone``) and mailed to ``recipients`` as CSV."""

    __tablename__ = "report_schedule"

    owner_id: Mapped[UUID] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    template: Mapped[str] = mapped_column(String(64))
    params: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    cron: Mapped[str] = mapped_column(String(120))
    timezone: Mapped[str] = mapped_column(String(64))
    recipients: Mapped[list[str]] = mapped_column(ARRAY(String(320)), default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class ReportRun(TenantScoped, AuditedModel):
    """One run of a schedule for one due time; its CSV output is kept for the signed link in the mail."""

    __tablename__ = "report_run"
    __table_args__ = (UniqueConstraint("schedule_id", "due_at", name="uq_report_run_due"),)

    schedule_id: Mapped[UUID] = mapped_column(ForeignKey("report_schedule.id", ondelete="CASCADE"), index=True)
    due_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    status: Mapped[str] = mapped_column(String(16), default="queued")
    row_count: Mapped[int | None] = mapped_column(Integer)
    output: Mapped[bytes | None] = mapped_column(LargeBinary)
    error: Mapped[str | None] = mapped_column(Text)
    finished_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
