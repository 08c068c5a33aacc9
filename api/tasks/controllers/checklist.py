"""A task's checklist: managers add lines; the assignee ticks them."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from litestar import Controller, patch, post
from litestar.params import JSONBody, PathParameter

from api.auth.guards import requires
from api.auth.permissions import Permission
from api.deps import CallerDep, OriginDep
from api.tasks import deps
from api.tasks.deps import ChecklistsDep, TaskId
from api.tasks.schemas import ChecklistItemCreate, ChecklistItemResponse, ChecklistItemUpdate, checklist_item_response


class ChecklistController(Controller):
    path = "/api/v1/tasks/{task_id:uuid}/checklist"
    tags = ["tasks"]
    dependencies = {"checklists": deps.checklists}

    @post("/", operation_id="AddChecklistItem", status_code=201, guards=[requires(Permission.TASKS_WRITE)])
    async def add_item(
        self,
        task_id: TaskId,
        data: JSONBody[ChecklistItemCreate],
        checklists: ChecklistsDep,
        current_user: CallerDep,
        origin: OriginDep,
    ) -> ChecklistItemResponse:
        """Append a line to the checklist."""
        return checklist_item_response(await checklists.add_item(task_id, data, actor=current_user, origin=origin))

    @patch("/{item_id:uuid}", operation_id="UpdateChecklistItem", guards=[requires(Permission.TASKS_WORK)])
    async def update_item(
        self,
        task_id: TaskId,
        item_id: Annotated[UUID, PathParameter(description="The checklist line's id.")],
        data: JSONBody[ChecklistItemUpdate],
        checklists: ChecklistsDep,
        current_user: CallerDep,
        origin: OriginDep,
    ) -> ChecklistItemResponse:
        """Tick, untick or reword a line (``403 not_your_task`` unless the assignee or a task manager)."""
        item = await checklists.update_item(task_id, item_id, data, actor=current_user, origin=origin)
        return checklist_item_response(item)
