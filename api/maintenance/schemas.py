"""Request and response bodies of the maintenance endpoints.

Update bodies use ``msgspec.UNSET`` for "leave as is", so ``null`` can clear a nullable field.
Costs are decimal strings or numbers, at most two decimals (``"120.50"``).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal
from uuid import UUID

import msgspec
from msgspec import UNSET, UnsetType

from api.schemas import RequestBody, ResponseBody
from persistence.models import MaintenanceComment, MaintenanceRequest, MaintenanceSla, MaintenanceStep

Title = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Description = Annotated[str, msgspec.Meta(max_length=10_000)]
CommentBody = Annotated[str, msgspec.Meta(min_length=1, max_length=4000)]
Note = Annotated[str, msgspec.Meta(max_length=2000)]
Hours = Annotated[int, msgspec.Meta(ge=1, le=8760, description="Hours from the request to its due time.")]
MaintenancePriority = Literal["low", "normal", "high", "urgent"]
MaintenanceStatus = Literal[
    "pending_approval", "open", "in_progress", "on_hold", "resolved", "closed", "cancelled", "rejected"
]
"""``pending_approval``: the estimated cost is over the tenant's threshold and waits for approval; ``rejected``:
that approval was refused. Neither is reached by a status change."""


class MaintenanceCreate(RequestBody):
    """A request on exactly one of an asset or a workplace; its due time follows from its priority."""

    title: Title
    description: Description = ""
    asset_id: UUID | None = None
    workplace_id: UUID | None = None
    priority: MaintenancePriority = "normal"
    assignee_id: UUID | None = None
    estimated_cost: Decimal | None = None


class MaintenanceUpdate(RequestBody):
    """A new priority moves the due time (from the request's creation); a new assignee is notified."""

    title: Title | UnsetType = UNSET
    description: Description | UnsetType = UNSET
    priority: MaintenancePriority | UnsetType = UNSET
    assignee_id: UUID | UnsetType | None = UNSET
    estimated_cost: Decimal | UnsetType | None = UNSET


class MaintenanceStatusChange(RequestBody):
    status: MaintenanceStatus
    note: Note = ""


class CommentCreate(RequestBody):
    body: CommentBody


class SlaHours(RequestBody):
    """Hours from request to due time per priority; new requests use them, existing ones keep their due time."""

    low_hours: Hours
    normal_hours: Hours
    high_hours: Hours
    urgent_hours: Hours


class CostThreshold(RequestBody):
    """Estimated costs strictly over ``threshold`` (in the tenant's currency, at most two decimals) go to approval
    (workflow kind ``maintenance_cost``) before work starts; ``null`` sends none."""

    threshold: Decimal | None


class CostThresholdResponse(ResponseBody):
    threshold: Decimal | None
    """``null`` while the tenant has none: no maintenance request goes to approval."""


class SlaResponse(ResponseBody):
    low_hours: int
    normal_hours: int
    high_hours: int
    urgent_hours: int
    is_default: bool
    """True while the tenant has not set its own hours."""


class MaintenanceResponse(ResponseBody):
    id: UUID
    title: str
    description: str
    priority: str
    status: str
    due_at: datetime
    created_at: datetime
    updated_at: datetime
    asset_id: UUID | None = None
    workplace_id: UUID | None = None
    assignee_id: UUID | None = None
    requested_by: UUID | None = None
    estimated_cost: Decimal | None = None
    breached_at: datetime | None = None
    """When the worker reported the due time as missed."""
    resolved_at: datetime | None = None
    closed_at: datetime | None = None


class StepResponse(ResponseBody):
    id: UUID
    to_status: str
    note: str
    at: datetime
    from_status: str | None = None
    actor_id: UUID | None = None


class MaintenanceDetail(MaintenanceResponse, kw_only=True):
    """A request with its status history, oldest first."""

    history: list[StepResponse]


class CommentResponse(ResponseBody):
    id: UUID
    request_id: UUID
    body: str
    created_at: datetime
    author_id: UUID | None = None


def maintenance_response(request: MaintenanceRequest) -> MaintenanceResponse:
    return msgspec.convert(request, MaintenanceResponse, from_attributes=True)


def step_response(step: MaintenanceStep) -> StepResponse:
    return msgspec.convert(step, StepResponse, from_attributes=True)


def comment_response(comment: MaintenanceComment) -> CommentResponse:
    return msgspec.convert(comment, CommentResponse, from_attributes=True)


def sla_response(row: MaintenanceSla | None, hours: dict[str, int]) -> SlaResponse:
    return SlaResponse(**{f"{p}_hours": h for p, h in hours.items()}, is_default=row is None)
