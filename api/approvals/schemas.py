"""Request and response bodies of the approval endpoints, and the step definition workflows store.

Times must carry an offset (``422 naive_datetime`` otherwise).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

import msgspec

from api.schemas import RequestBody, ResponseBody
from persistence.models import ApprovalDelegation, ApprovalEvent, ApprovalWorkflow

Rule = Literal["manager", "manager_of_manager", "department_head", "role", "users"]
Quorum = Literal["any", "all"]
Status = Literal["pending", "approved", "rejected", "changes_requested", "cancelled", "expired"]
DecisionKind = Literal["approve", "reject", "request_changes"]
Kind = Annotated[str, msgspec.Meta(pattern=r"^[a-z][a-z0-9_.-]{1,63}$", description="lower case, e.g. purchase")]
Title = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Comment = Annotated[str, msgspec.Meta(max_length=4000)]
MAX_PAYLOAD_BYTES = 16_384
BUILTIN_KINDS = ("leave", "overtime", "attendance_correction", "maintenance_cost")


class Step(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, omit_defaults=True):
    """One step of a workflow: who approves (``rule``), how many must (``quorum``), and how long they have.

    Rules: ``manager`` (the requester's manager), ``manager_of_manager``, ``department_head`` (the head of
    the requester's department, ``levels_up`` parents higher, walking further up past departments without
    a head), ``role`` (everyone holding ``role``), ``users`` (``user_ids``). The requester is never one of
    the approvers. ``timeout_seconds`` after the step starts the approvers are reminded; after each further
    timeout the step escalates to the managers of those who have not decided.
    """

    name: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    rule: Rule
    quorum: Quorum = "any"
    timeout_seconds: Annotated[int, msgspec.Meta(ge=60, le=30 * 86400)] = 86400
    role: Annotated[str, msgspec.Meta(min_length=1, max_length=64)] | None = None
    user_ids: Annotated[list[UUID], msgspec.Meta(max_length=50)] = msgspec.field(default_factory=list)
    levels_up: Annotated[int, msgspec.Meta(ge=0, le=10)] = 0


Steps = Annotated[list[Step], msgspec.Meta(min_length=1, max_length=10)]
ExpiresAfter = Annotated[int, msgspec.Meta(ge=3600, le=365 * 86400)]


class WorkflowCreate(RequestBody):
    """A workflow for requests of ``kind`` (one per kind); requests submitted later follow it."""

    kind: Kind
    name: Title
    steps: Steps
    expires_after_seconds: ExpiresAfter = 14 * 86400
    active: bool = True


class WorkflowUpdate(RequestBody):
    """Requests in flight keep the steps they started with."""

    name: Title | msgspec.UnsetType = msgspec.UNSET
    steps: Steps | msgspec.UnsetType = msgspec.UNSET
    expires_after_seconds: ExpiresAfter | msgspec.UnsetType = msgspec.UNSET
    active: bool | msgspec.UnsetType = msgspec.UNSET


class WorkflowResponse(ResponseBody):
    id: UUID
    kind: str
    name: str
    steps: list[Step]
    expires_after_seconds: int
    active: bool
    created_at: datetime
    updated_at: datetime


class RequestCreate(RequestBody):
    """A request of a custom kind, posted by an integration or a person.

    ``requester_id`` defaults to the caller; naming someone else needs ``approvals:manage``.
    """

    kind: Kind
    title: Title
    payload: dict[str, Any] = msgspec.field(default_factory=dict)
    requester_id: UUID | None = None
    subject_id: UUID | None = None


class DecisionCreate(RequestBody):
    """``approve``, ``reject`` or ``request_changes`` (which needs a comment)."""

    decision: DecisionKind
    comment: Comment = ""


class CommentCreate(RequestBody):
    body: Annotated[str, msgspec.Meta(min_length=1, max_length=4000)]


class Resubmission(RequestBody):
    """A request sent back for changes, changed and sent again from its first step."""

    title: Title | msgspec.UnsetType = msgspec.UNSET
    payload: dict[str, Any] | msgspec.UnsetType = msgspec.UNSET
    comment: Comment = ""


class ApproverResponse(ResponseBody):
    step: int
    approver_id: UUID
    escalated: bool
    decision: str | None = None
    decided_at: datetime | None = None
    acted_by: UUID | None = None
    """Set when a delegate decided on the approver's behalf."""


class EventResponse(ResponseBody):
    id: UUID
    kind: str
    occurred_at: datetime
    comment: str
    details: dict[str, Any]
    step: int | None = None
    actor_id: UUID | None = None
    on_behalf_of: UUID | None = None


class RequestResponse(ResponseBody):
    id: UUID
    kind: str
    title: str
    status: Status
    requester_id: UUID
    current_step: int
    step_count: int
    expires_at: datetime
    version: int
    created_at: datetime
    updated_at: datetime
    payload: dict[str, Any] = msgspec.field(default_factory=dict)
    subject_id: UUID | None = None
    submitted_by: UUID | None = None
    decided_at: datetime | None = None
    decided_by: UUID | None = None


class RequestDetail(RequestResponse):
    """A request with its steps, approvers and history."""

    steps: list[Step] = msgspec.field(default_factory=list)
    approvers: list[ApproverResponse] = msgspec.field(default_factory=list)
    events: list[EventResponse] = msgspec.field(default_factory=list)


class DelegationCreate(RequestBody):
    """Hand one's approvals to ``delegate_id`` from ``starts_at`` until ``ends_at``."""

    delegate_id: UUID
    starts_at: datetime
    ends_at: datetime
    reason: Annotated[str, msgspec.Meta(max_length=500)] = ""


class DelegationResponse(ResponseBody):
    id: UUID
    delegator_id: UUID
    delegate_id: UUID
    starts_at: datetime
    ends_at: datetime
    reason: str
    created_at: datetime
    revoked_at: datetime | None = None


class ActionResult(ResponseBody):
    """What an action link did."""

    request_id: UUID
    decision: str
    status: str


def workflow_response(workflow: ApprovalWorkflow) -> WorkflowResponse:
    return msgspec.convert(workflow, WorkflowResponse, from_attributes=True)


def event_response(event: ApprovalEvent) -> EventResponse:
    return msgspec.convert(event, EventResponse, from_attributes=True)


def delegation_response(delegation: ApprovalDelegation) -> DelegationResponse:
    return msgspec.convert(delegation, DelegationResponse, from_attributes=True)
