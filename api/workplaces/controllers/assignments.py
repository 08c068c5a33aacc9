"""Who is assigned to a workplace, and the history of past assignments; the chat channel follows them."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from litestar import Controller, delete, get, post
from litestar.params import JSONBody, PathParameter, QueryParameter

from api.auth.guards import requires
from api.auth.permissions import Permission
from api.deps import CallerDep, OriginDep, RuntimeDep
from api.workplaces import deps
from api.workplaces.deps import WorkplacesDep, commit_and_publish
from api.workplaces.schemas import AssignmentCreate, AssignmentResponse, assignment_response

WorkplaceId = Annotated[UUID, PathParameter(description="The workplace's id.")]
AssignmentId = Annotated[UUID, PathParameter(description="The assignment's id.")]


class AssignmentController(Controller):
    path = "/api/v1/workplaces/{workplace_id:uuid}/assignments"
    tags = ["workplaces"]
    dependencies = {"workplaces": deps.workplaces}

    @get("/", operation_id="ListWorkplaceAssignments", guards=[requires(Permission.WORKPLACES_READ)])
    async def list_assignments(
        self,
        workplaces: WorkplacesDep,
        workplace_id: WorkplaceId,
        include_ended: Annotated[bool, QueryParameter(description="Also past assignments (the history).")] = False,
    ) -> list[AssignmentResponse]:
        """Current assignments, oldest first; with ``include_ended`` the whole history."""
        rows = await workplaces.assignments(workplace_id, include_ended=include_ended)
        return [assignment_response(a) for a in rows]

    @post("/", operation_id="AssignToWorkplace", status_code=201, guards=[requires(Permission.WORKPLACES_WRITE)])
    async def assign(
        self,
        workplace_id: WorkplaceId,
        data: JSONBody[AssignmentCreate],
        workplaces: WorkplacesDep,
        runtime: RuntimeDep,
        current_user: CallerDep,
        origin: OriginDep,
    ) -> AssignmentResponse:
        """Assign a person as staff or supervisor; they join the workplace's channel
        (``409 already_assigned``; ``404`` for a user not in the tenant)."""
        assignment = await workplaces.assign(workplace_id, data, actor=current_user, origin=origin)
        await commit_and_publish(runtime, workplaces)
        return assignment_response(assignment)

    @delete(
        "/{assignment_id:uuid}",
        operation_id="EndWorkplaceAssignment",
        status_code=200,
        guards=[requires(Permission.WORKPLACES_WRITE)],
    )
    async def end_assignment(
        self,
        workplace_id: WorkplaceId,
        assignment_id: AssignmentId,
        workplaces: WorkplacesDep,
        runtime: RuntimeDep,
        current_user: CallerDep,
        origin: OriginDep,
    ) -> AssignmentResponse:
        """End an assignment, keeping it in the history; the person leaves the channel (``409 assignment_ended``)."""
        assignment = await workplaces.end_assignment(workplace_id, assignment_id, actor=current_user, origin=origin)
        await commit_and_publish(runtime, workplaces)
        return assignment_response(assignment)
