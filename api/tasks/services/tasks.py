"""Tasks themselves: create, change, assign (notifying the assignee), move through their statuses, and the
dependency graph, which never holds a cycle."""

from __future__ import annotations

from datetime import UTC
from functools import cache
from typing import TYPE_CHECKING, Any, cast
from uuid import UUID

import msgspec
from advanced_alchemy.repository import SQLAlchemyAsyncRepository
from sqlalchemy import Text, bindparam, func, literal, select, text, update
from sqlalchemy import cast as sql_cast
from sqlalchemy.dialects.postgresql import aggregate_order_by
from uuid_utils.compat import uuid7

from api.errors import AppError
from api.tasks.schemas import (
    ChecklistItemResponse,
    TaskDetail,
    TaskResponse,
    checklist_item_response,
    task_response,
)
from api.tasks.services._base import (
    announce,
    audit_task,
    check_worker,
    task_not_found,
    task_of_tenant,
    task_state,
    tell,
)
from api.workplaces.base import FieldService, changes, require_aware, require_row, utc_now
from persistence.models import Attachment, Role, Task, TaskChecklistItem, TaskDependency, User, Workplace
from persistence.prepared import Prepared, Row

if TYPE_CHECKING:
    from sqlalchemy import Table

    from api.audit import Origin
    from api.auth.principal import CurrentUser
    from api.tasks.schemas import StatusChange, TaskCreate, TaskUpdate


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

    async def change_status(
        self, task_id: UUID, data: StatusChange, *, actor: CurrentUser, origin: Origin
    ) -> TaskDetail:
        """Move a task to ``data.status``, and answer with the task as it is now.

        One locking read of what the checks need, then one ``UPDATE ... RETURNING`` of the whole task with
        its dependencies and checklist (read after the lock, so they are current).

        Raises:
            AppError: ``not_found`` (404); ``not_your_task`` (403); for ``done``: ``blocked_by_dependencies``
                (409, naming them), ``photo_required`` (409) without an image attachment when the task
                requires one, ``not_found`` (404) for an attachment not in the tenant.
        """
        found = await _LOCK_FOR_STATUS.first(self.session, task_id=task_id)
        if found is None:
            raise task_not_found()
        check_worker(
            actor, assignee_id=found.assignee_id, assignee_role_id=found.assignee_role_id, role_name=found.role_name
        )
        now = utc_now()
        values: dict[str, Any] = {"status": data.status, "completed_at": None}
        if found.assignee_id is None and found.assignee_role_id is not None and data.status != "cancelled":
            # Working a task given to one's role takes it: it is now one's own.
            values["assignee_id"] = actor.id
        if data.status == "done":
            await self._check_done(task_id, found.requires_photo, data.photo_attachment_id)
            values["completed_at"] = now
            if data.photo_attachment_id is not None:
                values["photo_attachment_id"] = data.photo_attachment_id
        unchanged = (
            data.status == found.status and found.completed_at is None and values["completed_at"] is None
        ) and "assignee_id" not in values
        if unchanged:
            # As the ORM did: nothing to write, so ``updated_at`` stays.
            row = await _READ_DETAIL.first(self.session, task_id=task_id)
        else:
            row = await _set_status(frozenset(values)).first(self.session, task_id=task_id, **values, updated_at=now)
        if row is None:  # not after the lock above; kept for the type
            raise task_not_found()
        audit_task(self.session, actor, origin, "task.status", task_id, {"from": found.status, "to": data.status})
        announce(self.session, row, "status", task_state(row), by=actor.id)
        return _detail_of(row)

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

    async def _check_done(self, task_id: UUID, requires_photo: bool, photo_attachment_id: UUID | None) -> None:
        waiting = await self.session.scalars(
            select(Task.id)
            .join(TaskDependency, TaskDependency.depends_on_id == Task.id)
            .where(TaskDependency.task_id == task_id, Task.status != "done")
            .order_by(Task.id)
        )
        blocking = [str(i) for i in waiting]
        if blocking:
            raise AppError(
                "blocked_by_dependencies",
                "Tasks this one depends on are not done yet.",
                status_code=409,
                details={"task_ids": blocking},
            )
        if not requires_photo:
            return
        if photo_attachment_id is None:
            raise AppError("photo_required", "This task needs a photo as proof before it is done.", status_code=409)
        attachment: Attachment = await require_row(self.session, Attachment, photo_attachment_id, "photo_attachment_id")
        if not attachment.content_type.startswith("image/"):
            raise AppError(
                "photo_required",
                "The proof must be an image.",
                status_code=409,
                details={"content_type": attachment.content_type},
            )

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


_TASK = cast("Table", Task.__table__)
_ROLE = cast("Table", Role.__table__)
_DEPENDENCY = cast("Table", TaskDependency.__table__)
_CHECKLIST = cast("Table", TaskChecklistItem.__table__)
_RESPONSE_FIELDS: tuple[str, ...] = TaskResponse.__struct_fields__
_CHECKLIST_FIELDS = ChecklistItemResponse.__struct_fields__


def _detail_columns() -> list[Any]:
    """The task's dependencies (ids, in order) and checklist (JSON text, by position), for a statement on ``task``."""
    depends_on = (
        select(func.array_agg(aggregate_order_by(_DEPENDENCY.c.depends_on_id, _DEPENDENCY.c.depends_on_id)))
        .where(_DEPENDENCY.c.task_id == _TASK.c.id)
        .correlate(_TASK)
        .scalar_subquery()
    )
    item = func.json_build_object(*(part for name in _CHECKLIST_FIELDS for part in (literal(name), _CHECKLIST.c[name])))
    checklist = (
        select(sql_cast(func.json_agg(aggregate_order_by(item, _CHECKLIST.c.position)), Text))
        .where(_CHECKLIST.c.task_id == _TASK.c.id)
        .correlate(_TASK)
        .scalar_subquery()
    )
    return [depends_on.label("depends_on"), checklist.label("checklist")]


# Built once: putting a statement together costs about as much Python as sending it.
_LOCK_FOR_STATUS = Prepared(
    select(
        _TASK.c.assignee_id,
        _TASK.c.assignee_role_id,
        _TASK.c.status,
        _TASK.c.requires_photo,
        _TASK.c.completed_at,
        select(_ROLE.c.name).where(_ROLE.c.id == _TASK.c.assignee_role_id).scalar_subquery().label("role_name"),
    )
    .where(_TASK.c.id == bindparam("task_id"))
    .with_for_update(of=_TASK)
)
"""What a status change checks, the task locked until the transaction ends."""
_READ_DETAIL = Prepared(select(*_TASK.c, *_detail_columns()).where(_TASK.c.id == bindparam("task_id")))


@cache
def _set_status(columns: frozenset[str]) -> Prepared:
    """The status change of ``columns`` (and ``updated_at``), their values given as parameters, answering with
    the task as :func:`_detail_of` reads it; one statement per combination of columns."""
    values: dict[str, Any] = {name: bindparam(name) for name in (*sorted(columns), "updated_at")}
    return Prepared(
        update(_TASK).where(_TASK.c.id == bindparam("task_id")).values(**values).returning(*_TASK.c, *_detail_columns())
    )


def _detail_of(row: Row) -> TaskDetail:
    """The answer of a statement with ``_detail_columns``: the task with its dependencies and checklist."""
    checklist: list[ChecklistItemResponse] = []
    if row.checklist is not None:
        for item in msgspec.json.decode(row.checklist, type=list[ChecklistItemResponse]):
            if item.done_at is not None:
                # JSON carries the session's offset; the ORM reads UTC.
                item.done_at = item.done_at.astimezone(UTC)
            checklist.append(item)
    return TaskDetail(
        **{name: getattr(row, name) for name in _RESPONSE_FIELDS},
        depends_on=list(row.depends_on or ()),
        checklist=checklist,
    )


def _str(value: UUID | None) -> str | None:
    return None if value is None else str(value)
