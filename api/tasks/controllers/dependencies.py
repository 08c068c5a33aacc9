"""A task's dependencies: the tasks that must be done before it can be."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from litestar import Controller, delete, post
from litestar.params import JSONBody, PathParameter

from api.auth.guards import requires
from api.auth.permissions import Permission
from api.deps import CallerDep, OriginDep
from api.tasks import deps
from api.tasks.deps import TaskId, TasksDep
from api.tasks.schemas import DependencyAdd, TaskDetail


class DependencyController(Controller):
    path = "/api/v1/tasks/{task_id:uuid}/dependencies"
    tags = ["tasks"]
    guards = [requires(Permission.TASKS_WRITE)]
    dependencies = {"tasks": deps.tasks}

    @post("/", operation_id="AddTaskDependency", status_code=200)
    async def add_dependency(
        self,
        task_id: TaskId,
        data: JSONBody[DependencyAdd],
        tasks: TasksDep,
        current_user: CallerDep,
        origin: OriginDep,
    ) -> TaskDetail:
        """Make the task wait for another (``422 dependency_cycle`` when that would close a cycle)."""
        task = await tasks.add_dependency(task_id, data.depends_on_id, actor=current_user, origin=origin)
        return await tasks.detail(task)

    @delete("/{depends_on_id:uuid}", operation_id="RemoveTaskDependency", status_code=200)
    async def remove_dependency(
        self,
        task_id: TaskId,
        depends_on_id: Annotated[UUID, PathParameter(description="The task it waits for.")],
        tasks: TasksDep,
        current_user: CallerDep,
        origin: OriginDep,
    ) -> TaskDetail:
        """Stop the task waiting for another."""
        task = await tasks.remove_dependency(task_id, depends_on_id, actor=current_user, origin=origin)
        return await tasks.detail(task)
