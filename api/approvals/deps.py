"""Providers of the approval services, one per request, on the request's transaction."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from litestar.di import NamedDependency
from litestar.params import PathParameter

from api.approvals.services import DelegationService, RequestService, WorkflowService
from api.deps import per_request

workflows = per_request(WorkflowService)
requests = per_request(RequestService)
delegations = per_request(DelegationService)

WorkflowsDep = NamedDependency[WorkflowService]
"""The request's workflow service (``workflows`` parameter)."""
RequestsDep = NamedDependency[RequestService]
"""The request's approval request service (``requests`` parameter)."""
DelegationsDep = NamedDependency[DelegationService]
"""The request's delegation service (``delegations`` parameter)."""

WorkflowId = Annotated[UUID, PathParameter(description="The workflow's id.")]
RequestId = Annotated[UUID, PathParameter(description="The approval request's id.")]
DelegationId = Annotated[UUID, PathParameter(description="The delegation's id.")]
