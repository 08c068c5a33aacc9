"""Approval tables: workflows per request type, requests moving through their steps, the approvers of each step,
the history (decisions, comments, reminders, escalations), delegations and single-use action links.

A request keeps a copy of its workflow's steps, so changing a workflow never moves a request in flight.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from advanced_alchemy.types import DateTimeUTC
from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from persistence.base import AuditedModel, Model, TenantScoped


class ApprovalWorkflow(TenantScoped, AuditedModel):
    """How requests of one kind are approved: ordered steps (each an approver rule, a quorum, a timeout)."""

    __tablename__ = "approval_workflow"
    __table_args__ = (UniqueConstraint("tenant_id", "kind", name="uq_approval_workflow_kind"),)

    kind: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    steps: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    """Each step: ``rule``, ``quorum`` (``any``/``all``), ``timeout_seconds`` and the rule's parameters."""
    expires_after_seconds: Mapped[int] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class ApprovalRequest(TenantScoped, AuditedModel):
    """One thing waiting for approval: its kind, subject (the domain's object), requester and state."""

    __tablename__ = "approval_request"
    __table_args__ = (
        Index(
            "ix_approval_request_open",
            "tenant_id",
            "next_nudge_at",
            postgresql_where=text("status IN ('pending', 'changes_requested')"),
        ),
        CheckConstraint(
            "status IN ('pending', 'approved', 'rejected', 'changes_requested', 'cancelled', 'expired')",
            name="status_known",
        ),
    )

    workflow_id: Mapped[UUID | None] = mapped_column(ForeignKey("approval_workflow.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(64), index=True)
    subject_id: Mapped[UUID | None] = mapped_column(index=True)
    title: Mapped[str] = mapped_column(String(200))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    requester_id: Mapped[UUID] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), index=True)
    submitted_by: Mapped[UUID | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(20), default="pending")
    steps: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    current_step: Mapped[int] = mapped_column(Integer, default=0)
    step_started_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    nudges: Mapped[int] = mapped_column(Integer, default=0)
    """Timeouts of the current step acted on so far: the first reminds, each later one escalates."""
    next_nudge_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    """When the current step's next timeout falls (its start plus one timeout per nudge, plus one)."""
    expires_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    decided_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    decided_by: Mapped[UUID | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))
    version: Mapped[int] = mapped_column(Integer, default=1)


class ApprovalApprover(TenantScoped, Model):
    """A person asked to decide one step of a request, and what they (or their delegate) decided."""

    __tablename__ = "approval_approver"
    __table_args__ = (UniqueConstraint("request_id", "step", "approver_id", name="uq_approval_approver"),)

    request_id: Mapped[UUID] = mapped_column(ForeignKey("approval_request.id", ondelete="CASCADE"), index=True)
    step: Mapped[int] = mapped_column(Integer)
    approver_id: Mapped[UUID] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), index=True)
    escalated: Mapped[bool] = mapped_column(Boolean, default=False)
    """Added by escalation: a manager above, whose approval alone completes the step."""
    decision: Mapped[str | None] = mapped_column(String(20))
    decided_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    acted_by: Mapped[UUID | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))
    """Who clicked: the approver, or their delegate acting on their behalf."""


class ApprovalEvent(TenantScoped, Model):
    """One line of a request's history: submitted, a decision, a comment, a reminder, an escalation, the end."""

    __tablename__ = "approval_event"

    request_id: Mapped[UUID] = mapped_column(ForeignKey("approval_request.id", ondelete="CASCADE"), index=True)
    occurred_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    kind: Mapped[str] = mapped_column(String(32))
    step: Mapped[int | None] = mapped_column(Integer)
    actor_id: Mapped[UUID | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))
    on_behalf_of: Mapped[UUID | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))
    comment: Mapped[str] = mapped_column(Text, default="")
    details: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)


class ApprovalDelegation(TenantScoped, AuditedModel):
    """An approver's decisions handed to another user for a time range (out of office)."""

    __tablename__ = "approval_delegation"
    __table_args__ = (
        CheckConstraint("delegator_id <> delegate_id", name="not_self"),
        CheckConstraint("starts_at < ends_at", name="range_ordered"),
    )

    delegator_id: Mapped[UUID] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), index=True)
    delegate_id: Mapped[UUID] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), index=True)
    starts_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    ends_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    reason: Mapped[str] = mapped_column(String(500), default="")
    revoked_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))


class ApprovalLink(TenantScoped, Model):
    """The single-use grant behind a notification's Approve and Reject links: one user, one request.

    Both links of a notification name this row; whichever is used first marks it, and every copy
    (inbox, push, email) is dead from then on.
    """

    __tablename__ = "approval_link"

    request_id: Mapped[UUID] = mapped_column(ForeignKey("approval_request.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[UUID] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
