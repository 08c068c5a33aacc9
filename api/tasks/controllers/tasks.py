"""Tasks: list (everyone's, or my own) with filters, read, create, change, and move through their statuses."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from litestar import Controller, get, patch, post
from litestar.params import JSONBody, QueryParameter

from api.auth.guards import requires
from api.auth.permissions import Permission
from api.deps import CallerDep, DbDriver, Limit, Offset, OriginDep, Search
from api.schemas import Page
from api.tasks import deps
from api.tasks.deps import TaskId, TasksDep
from api.tasks.schemas import (
    Priority,
    StatusChange,
    TaskCreate,
    TaskDetail,
    TaskResponse,
    TaskStatus,
    TaskUpdate,
)
from api.tasks.services.listing import task_page
from api.tasks.services.status import change_status

StatusFilter = Annotated[TaskStatus | None, QueryParameter(description="Only tasks in this status.")]
OpenFilter = Annotated[
    bool | None,
    QueryParameter(
        name="open",
        description="true: only tasks still to do (todo, in progress, blocked); false: only done or cancelled ones.",
    ),
]
PriorityFilter = Annotated[Priority | None, QueryParameter(description="Only tasks of this priority.")]
LabelFilter = Annotated[str | None, QueryParameter(max_length=50, description="Only tasks with this label.")]
WorkplaceFilter = Annotated[UUID | None, QueryParameter(description="Only tasks at this workplace.")]
DueBefore = Annotated[
    datetime | None, QueryParameter(description="Only tasks due before this instant (with an offset).")
]


class TaskController(Controller):
    path = "/api/v1/tasks"
    tags = ["tasks"]
    dependencies = {"tasks": deps.tasks}

    @get("/", operation_id="ListTasks", guards=[requires(Permission.TASKS_READ)])
    async def list_tasks(
        self,
        db_driver: DbDriver,
        assignee_id: Annotated[UUID | None, QueryParameter(description="Only tasks assigned to this user.")] = None,
        workplace_id: WorkplaceFilter = None,
        status: StatusFilter = None,
        still_open: OpenFilter = None,
        priority: PriorityFilter = None,
        label: LabelFilter = None,
        due_before: DueBefore = None,
        q: Search = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> Page[TaskResponse]:
        """Tasks of the tenant, soonest due first; ``q`` matches the title (``422 naive_datetime``)."""
        rows, total = await task_page(
            db_driver,
            limit=limit,
            offset=offset,
            assignee_id=assignee_id,
            workplace_id=workplace_id,
            status=status,
            still_open=still_open,
            priority=priority,
            label=label,
            due_before=due_before,
            search=q,
        )
        return Page(items=rows, total=total, limit=limit, offset=offset)

    @get("/mine", operation_id="ListMyTasks", guards=[requires(Permission.TASKS_READ)])
    async def my_tasks(
        self,
        db_driver: DbDriver,
        current_user: CallerDep,
        workplace_id: WorkplaceFilter = None,
        status: StatusFilter = None,
        still_open: OpenFilter = None,
        priority: PriorityFilter = None,
        label: LabelFilter = None,
        due_before: DueBefore = None,
        q: Search = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> Page[TaskResponse]:
        """Tasks assigned to the caller, or to one of their roles and not taken yet, soonest due first, with the
        same filters."""
        rows, total = await task_page(
            db_driver,
            limit=limit,
            offset=offset,
            mine=current_user.id,
            workplace_id=workplace_id,
            status=status,
            still_open=still_open,
            priority=priority,
            label=label,
            due_before=due_before,
            search=q,
        )
        return Page(items=rows, total=total, limit=limit, offset=offset)

    @get("/{task_id:uuid}", operation_id="GetTask", guards=[requires(Permission.TASKS_READ)])
    async def get_task(self, tasks: TasksDep, task_id: TaskId) -> TaskDetail:
        """One task with its dependencies and checklist."""
        return await tasks.detail(await tasks.get(task_id))

    @post("/", operation_id="CreateTask", status_code=201, guards=[requires(Permission.TASKS_WRITE)])
    async def create_task(
        self, data: JSONBody[TaskCreate], tasks: TasksDep, current_user: CallerDep, origin: OriginDep
    ) -> TaskDetail:
        """Add a task; its assignee is notified (category ``task``) in the same transaction.

        Errors: ``404 not_found`` for an assignee, role, workplace or dependency not in the tenant,
        ``422 naive_datetime`` for ``due_at`` without an offset.
        """
        return await tasks.detail(await tasks.create_task(data, actor=current_user, origin=origin))

    @patch("/{task_id:uuid}", operation_id="UpdateTask", guards=[requires(Permission.TASKS_WRITE)])
    async def update_task(
        self,
        task_id: TaskId,
        data: JSONBody[TaskUpdate],
        tasks: TasksDep,
        current_user: CallerDep,
        origin: OriginDep,
    ) -> TaskDetail:
        """Change a task; a new assignee is notified. The same errors as on creation."""
        return await tasks.detail(await tasks.update_task(task_id, data, actor=current_user, origin=origin))

    @post(
        "/{task_id:uuid}/status",
        operation_id="ChangeTaskStatus",
        status_code=200,
        guards=[requires(Permission.TASKS_WORK)],
    )
    async def change_status(
        self,
        task_id: TaskId,
        data: JSONBody[StatusChange],
        db_driver: DbDriver,
        current_user: CallerDep,
        origin: OriginDep,
    ) -> TaskDetail:
        """Move a task (the assignee, or a task manager: ``403 not_your_task``).

        To ``done``: ``409 blocked_by_dependencies`` while a dependency is not done, ``409 photo_required``
        without an image ``photo_attachment_id`` when the task requires a photo.
        """
        return await change_status(db_driver, task_id, data, actor=current_user, origin=origin)
