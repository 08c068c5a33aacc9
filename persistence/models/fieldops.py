"""Field operations tables: workplaces and their assignments, attendance, and tasks with their graph and timers.

Invariants the application relies on are also held by the schema, so two concurrent requests
cannot break them: one current assignment per person and workplace, one open attendance per
person, one running timer per person, no task depending on itself.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any
from uuid import UUID

from advanced_alchemy.types import DateTimeUTC
from sqlalchemy import (
    ARRAY,
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    Time,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from persistence.base import AuditedModel, TenantScoped


class Workplace(TenantScoped, AuditedModel):
    """A store or site people are assigned to and clock in at, with its geofence and local time zone."""

    __tablename__ = "workplace"
    __table_args__ = (UniqueConstraint("tenant_id", "code", name="uq_workplace_code"),)

    name: Mapped[str] = mapped_column(String(200))
    code: Mapped[str] = mapped_column(String(32))
    address: Mapped[str] = mapped_column(Text, default="")
    latitude: Mapped[float] = mapped_column(Float)
    longitude: Mapped[float] = mapped_column(Float)
    geofence_radius_m: Mapped[int] = mapped_column(Integer)
    timezone: Mapped[str] = mapped_column(String(64))
    opening_hours: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    """Per weekday (``mon`` .. ``sun``), a list of ``["HH:MM", "HH:MM"]`` intervals in local time."""
    region: Mapped[str | None] = mapped_column(String(100))
    department_id: Mapped[UUID | None] = mapped_column(ForeignKey("department.id", ondelete="SET NULL"), index=True)
    status: Mapped[str] = mapped_column(String(20), default="active")


class WorkplaceAssignment(TenantScoped, AuditedModel):
    """A person assigned to a workplace as staff or supervisor; ended rows are the history."""

    __tablename__ = "workplace_assignment"
    __table_args__ = (
        Index(
            "uq_workplace_assignment_current",
            "workplace_id",
            "user_id",
            unique=True,
            postgresql_where=text("ended_at IS NULL"),
        ),
    )

    workplace_id: Mapped[UUID] = mapped_column(ForeignKey("workplace.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[UUID] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    started_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    assigned_by: Mapped[UUID | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))
    ended_by: Mapped[UUID | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))


class AttendanceRecord(TenantScoped, AuditedModel):
    """One stay at a workplace: the clock-in, and the clock-out once it happens, each with its position."""

    __tablename__ = "attendance_record"
    __table_args__ = (
        Index("uq_attendance_open", "user_id", unique=True, postgresql_where=text("clock_out_at IS NULL")),
        Index("ix_attendance_user_clock_in", "user_id", "clock_in_at"),
        Index("ix_attendance_workplace_clock_in", "workplace_id", "clock_in_at"),
    )

    user_id: Mapped[UUID] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"))
    workplace_id: Mapped[UUID] = mapped_column(ForeignKey("workplace.id", ondelete="RESTRICT"))
    clock_in_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    clock_in_received_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    clock_in_offline: Mapped[bool] = mapped_column(Boolean, default=False)
    clock_in_latitude: Mapped[float] = mapped_column(Float)
    clock_in_longitude: Mapped[float] = mapped_column(Float)
    clock_in_accuracy_m: Mapped[float | None] = mapped_column(Float)
    clock_in_distance_m: Mapped[float] = mapped_column(Float)
    clock_out_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    clock_out_received_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    clock_out_offline: Mapped[bool] = mapped_column(Boolean, default=False)
    clock_out_latitude: Mapped[float | None] = mapped_column(Float)
    clock_out_longitude: Mapped[float | None] = mapped_column(Float)
    clock_out_accuracy_m: Mapped[float | None] = mapped_column(Float)
    clock_out_distance_m: Mapped[float | None] = mapped_column(Float)
    clock_in_flagged: Mapped[bool] = mapped_column(Boolean, default=False)
    """Accepted outside the geofence under a tenant policy of ``flag``."""
    clock_out_flagged: Mapped[bool] = mapped_column(Boolean, default=False)


class Task(TenantScoped, AuditedModel):
    """A piece of work, assigned to a person, optionally at a workplace, optionally needing a photo to be done."""

    __tablename__ = "task"
    __table_args__ = (
        Index("ix_task_assignee_status", "assignee_id", "status"),
        Index("ix_task_tenant_due", "tenant_id", "due_at"),
        Index("ix_task_assignee_due", "assignee_id", "due_at", "id"),
        Index(
            "ix_task_open_due",
            "tenant_id",
            "due_at",
            postgresql_where=text("status IN ('todo', 'in_progress', 'blocked') AND due_at IS NOT NULL"),
        ),
        # One task per occurrence of a recurring template, however often the worker runs.
        UniqueConstraint("template_id", "occurrence_at", name="uq_task_occurrence"),
    )

    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    assignee_id: Mapped[UUID | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))
    assignee_role_id: Mapped[UUID | None] = mapped_column(ForeignKey("role.id", ondelete="SET NULL"))
    """Assigned to everyone holding this role: any of them may work it until a person is assigned."""
    workplace_id: Mapped[UUID | None] = mapped_column(ForeignKey("workplace.id", ondelete="SET NULL"), index=True)
    created_by: Mapped[UUID | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))
    due_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    priority: Mapped[str] = mapped_column(String(16), default="normal")
    status: Mapped[str] = mapped_column(String(16), default="todo")
    labels: Mapped[list[str]] = mapped_column(ARRAY(String(50)), default=list)
    requires_photo: Mapped[bool] = mapped_column(Boolean, default=False)
    photo_attachment_id: Mapped[UUID | None] = mapped_column(ForeignKey("attachment.id", ondelete="SET NULL"))
    completed_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    template_id: Mapped[UUID | None] = mapped_column(ForeignKey("task_template.id", ondelete="SET NULL"))
    occurrence_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    """The template's occurrence this task was generated for (its first due time)."""
    due_soon_notified_for: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    """The due time the "due soon" notification went out for; a new due time is announced again."""
    overdue_notified_for: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    """The due time the "overdue" notification went out for."""


class TaskTemplate(TenantScoped, AuditedModel):
    """A recurring task: the worker turns each occurrence into a task, a horizon ahead.

    Occurrences fall at ``due_time`` local time in the workplace's time zone (``timezone`` when the
    template has no workplace): daily, on ``weekdays`` (0 = Monday) or on ``month_day`` of each month
    (the month's last day when it is shorter), from ``starts_on`` to ``ends_on`` inclusive.
    """

    __tablename__ = "task_template"

    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    priority: Mapped[str] = mapped_column(String(16), default="normal")
    labels: Mapped[list[str]] = mapped_column(ARRAY(String(50)), default=list)
    requires_photo: Mapped[bool] = mapped_column(Boolean, default=False)
    checklist: Mapped[list[str]] = mapped_column(ARRAY(String(500)), default=list)
    assignee_id: Mapped[UUID | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))
    assignee_role_id: Mapped[UUID | None] = mapped_column(ForeignKey("role.id", ondelete="SET NULL"))
    workplace_id: Mapped[UUID | None] = mapped_column(ForeignKey("workplace.id", ondelete="CASCADE"), index=True)
    frequency: Mapped[str] = mapped_column(String(16))
    weekdays: Mapped[list[int]] = mapped_column(ARRAY(Integer), default=list)
    month_day: Mapped[int | None] = mapped_column(Integer)
    due_time: Mapped[time] = mapped_column(Time)
    timezone: Mapped[str | None] = mapped_column(String(64))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[UUID | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))


class TaskDependency(TenantScoped, AuditedModel):
    """``task_id`` cannot be done before ``depends_on_id`` is; the edges form a graph without cycles."""

    __tablename__ = "task_dependency"
    __table_args__ = (
        UniqueConstraint("task_id", "depends_on_id", name="uq_task_dependency_edge"),
        CheckConstraint("task_id <> depends_on_id", name="not_self"),
    )

    task_id: Mapped[UUID] = mapped_column(ForeignKey("task.id", ondelete="CASCADE"), index=True)
    depends_on_id: Mapped[UUID] = mapped_column(ForeignKey("task.id", ondelete="CASCADE"), index=True)


class TaskChecklistItem(TenantScoped, AuditedModel):
    """One line of a task's checklist, ticked by whoever does the work."""

    __tablename__ = "task_checklist_item"

    task_id: Mapped[UUID] = mapped_column(ForeignKey("task.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(String(500))
    done: Mapped[bool] = mapped_column(Boolean, default=False)
    done_by: Mapped[UUID | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))
    done_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))


class TaskComment(TenantScoped, AuditedModel):
    """A comment on a task."""

    __tablename__ = "task_comment"

    task_id: Mapped[UUID] = mapped_column(ForeignKey("task.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[UUID | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))
    body: Mapped[str] = mapped_column(Text)


class TaskTimeEntry(TenantScoped, AuditedModel):
    """Time a person spent on a task: a running timer (no end yet), a stopped one, or a manual entry."""

    __tablename__ = "task_time_entry"
    __table_args__ = (
        Index("uq_task_time_entry_running", "user_id", unique=True, postgresql_where=text("ended_at IS NULL")),
    )

    task_id: Mapped[UUID] = mapped_column(ForeignKey("task.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[UUID] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), index=True)
    started_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    manual: Mapped[bool] = mapped_column(Boolean, default=False)
    note: Mapped[str] = mapped_column(String(500), default="")


class TaskAttachment(TenantScoped, AuditedModel):
    """A file on a task, kept in the chat's attachment storage; a file belongs to one task at most."""

    __tablename__ = "task_attachment"
    __table_args__ = (UniqueConstraint("attachment_id", name="uq_task_attachment_attachment"),)

    task_id: Mapped[UUID] = mapped_column(ForeignKey("task.id", ondelete="CASCADE"), index=True)
    attachment_id: Mapped[UUID] = mapped_column(ForeignKey("attachment.id", ondelete="CASCADE"))
    added_by: Mapped[UUID | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))
