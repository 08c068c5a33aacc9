"""Tasks themselves: create, change, assign (notifying the assignee), and the dependency graph, which never
holds a cycle. Their moves through the statuses are :mod:`api.tasks.services.status`."""

from __future__ import annotations

from typing import TYPE_CHECKING
from uuid import UUID

import msgspec
from advanced_alchemy.repository import SQLAlchemyAsyncRepository
from sqlalchemy import select, text
from uuid_utils.compat import uuid7

from api.errors import AppError
from api.tasks.schemas import (
    ChecklistItemResponse,
    TaskDetail,
    checklist_item_response,
    task_response,
)
from api.tasks.services._base import (
    announce,
    audit_task,
    task_of_tenant,
    task_state,
    tell,
)
from api.workplaces.base import FieldService, changes, require_aware, require_row
from persistence.models import Role, Task, TaskChecklistItem, TaskDependency, User, Workplace

if TYPE_CHECKING:
    from api.audit import Origin
    from api.auth.principal import CurrentUser
    from api.tasks.schemas import TaskCreate, TaskUpdate


class TaskService(FieldService[Task]):
    """The tenant's tasks and their dependency graph.

    Graph changes take a per-tenant advisory lock for the rest of the transaction, so two concurrent
    edges cannot together close a cycle that neither would alone.
    """

    class Repo(SQLAlchemyAsyncRepository[Task]):
        model_type = Task

    repository_type = Repo

    async def detail(self, task: Task) -> TaskDetail:
        """The task with its dependencies and checklist."""
        depends_on = await self.session.scalars(
            select(TaskDependency.depends_on_id)
            .where(TaskDependency.task_id == task.id)
            .order_by(TaskDependency.depends_on_id)
        )
        items = await self.session.scalars(
            select(TaskChecklistItem).where(TaskChecklistItem.task_id == task.id).order_by(TaskChecklistItem.position)
        )
        checklist: list[ChecklistItemResponse] = [checklist_item_response(i) for i in items]
        summary = msgspec.structs.asdict(task_response(task))
        return TaskDetail(**summary, depends_on=list(depends_on.all()), checklist=checklist)

    async def create_task(self, data: TaskCreate, *, actor: CurrentUser, origin: Origin) -> Task:
        """Add a task with its checklist and dependencies; notify its assignee.

        Raises:
            AppError: ``not_found`` (404) for an assignee, workplace or dependency not in the tenant;
                ``naive_datetime`` (422) for ``due_at`` without an offset.
        """
        due_at = require_aware(data.due_at, "due_at") if data.due_at is not None else None
        await self._check_references(data.assignee_id, data.workplace_id, data.assignee_role_id)
        for depends_on_id in set(data.depends_on):
            await require_row(self.session, Task, depends_on_id, "depends_on")
        task = await self.create(
            Task(
                tenant_id=actor.tenant_id,
                title=data.title,
                description=data.description,
                assignee_id=data.assignee_id,
                assignee_role_id=data.assignee_role_id,
                workplace_id=data.workplace_id,
                created_by=actor.id,
                due_at=due_at,
                priority=data.priority,
                status="todo",
                labels=sorted(set(data.labels)),
                requires_photo=data.requires_photo,
            )
        )
        # A new task has no dependants yet, so its edges cannot close a cycle.
        for depends_on_id in sorted(set(data.depends_on)):
            self.session.add(TaskDependency(tenant_id=actor.tenant_id, task_id=task.id, depends_on_id=depends_on_id))
        for position, item in enumerate(data.checklist):
            self.session.add(
                TaskChecklistItem(tenant_id=actor.tenant_id, task_id=task.id, position=position, text=item)
            )
        await self.session.flush()
        audit_task(self.session, actor, origin, "task.create", task.id, {"assignee_id": _str(task.assignee_id)})
        announce(self.session, task, "created", task_state(task), by=actor.id)
        await self._notify_assignee(task, actor)
        return task

    async def update_task(self, task_id: UUID, data: TaskUpdate, *, actor: CurrentUser, origin: Origin) -> Task:
        """Change a task; a new assignee is notified. The same checks as on creation."""
        task = await task_of_tenant(self.session, task_id, lock=True)
        fields = changes(data)
        if fields.get("due_at") is not None:
            fields["due_at"] = require_aware(fields["due_at"], "due_at")
        await self._check_references(
            fields.get("assignee_id"), fields.get("workplace_id"), fields.get("assignee_role_id")
        )
        if "labels" in fields:
            fields["labels"] = sorted(set(fields["labels"]))
        changed = sorted(name for name, value in fields.items() if getattr(task, name) != value)
        for name in changed:
            setattr(task, name, fields[name])
        task = await self.update(task)
        if not changed:
            return task
        audit_task(self.session, actor, origin, "task.update", task.id, {"fields": changed})
        assigned = bool({"assignee_id", "assignee_role_id"} & set(changed))
        announce(self.session, task, "assigned" if assigned else "updated", task_state(task, changed), by=actor.id)
        if assigned:
            await self._notify_assignee(task, actor)
        return task

    async def add_dependency(self, task_id: UUID, depends_on_id: UUID, *, actor: CurrentUser, origin: Origin) -> Task:
        """Make ``task_id`` wait for ``depends_on_id``.

        Raises:
            AppError: ``not_found`` (404) for either task not in the tenant; ``dependency_cycle`` (422)
                when ``depends_on_id`` is the task itself or already waits for it, directly or not.
        """
        await self._lock_graph(actor.tenant_id)
        task = await task_of_tenant(self.session, task_id, lock=True)
        await require_row(self.session, Task, depends_on_id, "depends_on_id")
        if depends_on_id == task.id or await self._reaches(depends_on_id, task.id):
            raise AppError(
                "dependency_cycle",
                "This dependency would make the task wait for itself.",
                status_code=422,
                details={"task_id": str(task.id), "depends_on_id": str(depends_on_id)},
            )
        exists = await self.session.scalar(
            select(TaskDependency.id).where(
                TaskDependency.task_id == task.id, TaskDependency.depends_on_id == depends_on_id
            )
        )
        if exists is None:
            self.session.add(TaskDependency(tenant_id=actor.tenant_id, task_id=task.id, depends_on_id=depends_on_id))
            await self.session.flush()
            audit_task(self.session, actor, origin, "task.depend", task.id, {"depends_on_id": str(depends_on_id)})
            announce(self.session, task, "dependency", {"added": str(depends_on_id)}, by=actor.id)
        return task

    async def remove_dependency(
        self, task_id: UUID, depends_on_id: UUID, *, actor: CurrentUser, origin: Origin
    ) -> Task:
        """Stop ``task_id`` waiting for ``depends_on_id`` (``not_found`` when it does not)."""
        await self._lock_graph(actor.tenant_id)
        task = await task_of_tenant(self.session, task_id, lock=True)
        edge = await self.session.scalar(
            select(TaskDependency).where(
                TaskDependency.task_id == task.id, TaskDependency.depends_on_id == depends_on_id
            )
        )
        if edge is None:
            raise AppError("not_found", "The task does not depend on that one.", status_code=404)
        await self.session.delete(edge)
        await self.session.flush()
        audit_task(self.session, actor, origin, "task.undepend", task.id, {"depends_on_id": str(depends_on_id)})
        announce(self.session, task, "dependency", {"removed": str(depends_on_id)}, by=actor.id)
        return task

    # -- rules ---------------------------------------------------------------------------------

    async def _check_references(
        self, assignee_id: UUID | None, workplace_id: UUID | None, assignee_role_id: UUID | None = None
    ) -> None:
        if assignee_id is not None:
            await require_row(self.session, User, assignee_id, "assignee_id", status="active")
        if workplace_id is not None:
            await require_row(self.session, Workplace, workplace_id, "workplace_id")
        if assignee_role_id is not None:
            await require_row(self.session, Role, assignee_role_id, "assignee_role_id")

    async def _reaches(self, start_id: UUID, target_id: UUID) -> bool:
        """Whether ``start_id`` depends on ``target_id``, directly or through other tasks."""
        reached = select(TaskDependency.depends_on_id.label("id")).where(TaskDependency.task_id == start_id)
        walk = reached.cte(recursive=True)
        walk = walk.union(select(TaskDependency.depends_on_id).join(walk, TaskDependency.task_id == walk.c.id))
        hit = await self.session.scalar(select(walk.c.id).where(walk.c.id == target_id).limit(1))
        return hit is not None

    async def _lock_graph(self, tenant_id: UUID) -> None:
        await self.session.execute(
            text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"), {"key": f"task-graph:{tenant_id}"}
        )

    async def _notify_assignee(self, task: Task, actor: CurrentUser) -> None:
        """Tell whoever the task is now for, in this transaction; nobody is told about a task they gave themselves."""
        due = f" Due {task.due_at.isoformat()}." if task.due_at else ""
        await tell(
            self.session,
            task,
            title=f"New task: {task.title}",
            body=f"{task.description[:3800]}{due}".strip(),
            # Each assignment is its own event: reassigning later notifies again.
            key=f"task.assigned:{task.id}:{task.assignee_id or task.assignee_role_id}:{uuid7()}",
            exclude=actor.id,
        )


def _str(value: UUID | None) -> str | None:
    return None if value is None else str(value)
