"""Approval workflows: list, read, create, change and delete (``approvals:manage``)."""

from __future__ import annotations

from litestar import Controller, delete, get, patch, post
from litestar.params import JSONBody

from api.approvals import deps
from api.approvals.deps import WorkflowId, WorkflowsDep
from api.approvals.schemas import WorkflowCreate, WorkflowResponse, WorkflowUpdate, workflow_response
from api.auth.guards import requires
from api.auth.permissions import Permission
from api.deps import CallerDep, Limit, Offset, OriginDep
from api.schemas import Page


class WorkflowController(Controller):
    path = "/api/v1/approvals/workflows"
    tags = ["approvals"]
    dependencies = {"workflows": deps.workflows}
    guards = [requires(Permission.APPROVALS_MANAGE)]

    @get("/", operation_id="ListApprovalWorkflows")
    async def list_workflows(
        self, workflows: WorkflowsDep, limit: Limit = 50, offset: Offset = 0
    ) -> Page[WorkflowResponse]:
        """The tenant's workflows by kind (the built-in kinds have one from the start)."""
        rows, total = await workflows.page(limit=limit, offset=offset)
        return Page(items=[workflow_response(w) for w in rows], total=total, limit=limit, offset=offset)

    @get("/{workflow_id:uuid}", operation_id="GetApprovalWorkflow")
    async def get_workflow(self, workflows: WorkflowsDep, workflow_id: WorkflowId) -> WorkflowResponse:
        """One workflow."""
        return workflow_response(await workflows.get(workflow_id))

    @post("/", operation_id="CreateApprovalWorkflow", status_code=201)
    async def create_workflow(
        self, data: JSONBody[WorkflowCreate], workflows: WorkflowsDep, current_user: CallerDep, origin: OriginDep
    ) -> WorkflowResponse:
        """Add the workflow of a kind (``409 conflict`` when it has one; ``422 invalid_step`` naming the step
        for a role that does not exist or users that are not active users of the tenant)."""
        return workflow_response(await workflows.create_workflow(data, actor=current_user, origin=origin))

    @patch("/{workflow_id:uuid}", operation_id="UpdateApprovalWorkflow")
    async def update_workflow(
        self,
        workflow_id: WorkflowId,
        data: JSONBody[WorkflowUpdate],
        workflows: WorkflowsDep,
        current_user: CallerDep,
        origin: OriginDep,
    ) -> WorkflowResponse:
        """Change a workflow; requests in flight keep the steps they started with."""
        return workflow_response(await workflows.update_workflow(workflow_id, data, actor=current_user, origin=origin))

    @delete("/{workflow_id:uuid}", operation_id="DeleteApprovalWorkflow", status_code=204)
    async def delete_workflow(
        self, workflow_id: WorkflowId, workflows: WorkflowsDep, current_user: CallerDep, origin: OriginDep
    ) -> None:
        """Remove a workflow: new requests of its kind are refused (``422 no_workflow``) until another exists."""
        await workflows.delete_workflow(workflow_id, actor=current_user, origin=origin)
