"""What the task services share: who may work on a task, who hears about it, finding a task, the audit record
and the task's live events."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

import msgspec
from sqlalchemy import select

from api.audit import Origin, record
from api.auth.permissions import Permission
from api.board.live import TaskChange, TaskEvent, TaskOnBoard, board_topic, queue_event, task_topic
from api.errors import AppError
from api.tasks.schemas import OPEN_STATUSES, task_response
from api.workplaces.base import require_row, utc_now
from delivery.notify import Priority, Recipients, notify
from persistence.models import Role, Task, WorkplaceAssignment

# Task priorities to notification priorities: an urgent task is loud, but never "critical" (safety only).
NOTIFY_PRIORITY: dict[str, Priority] = {"low": "low", "normal": "normal", "high": "high", "urgent": "high"}

if TYPE_CHECKING:
    from datetime import datetime
    from uuid import UUID

    from sqlalchemy.ext.asyncio import AsyncSession

    from api.auth.principal import CurrentUser
    from persistence.prepared import DriverTransaction


class TaskFacts(Protocol):
    """What a live event needs of a task: an ORM ``Task`` or a row read with these columns."""

    @property
    def id(self) -> UUID: ...
    @property
    def tenant_id(self) -> UUID: ...
    @property
    def status(self) -> str: ...
    @property
    def due_at(self) -> datetime | None: ...
    @property
    def workplace_id(self) -> UUID | None: ...
    @property
    def assignee_id(self) -> UUID | None: ...


async def task_of_tenant(session: AsyncSession, task_id: UUID, *, lock: bool = False) -> Task:
    """The task ``task_id`` of the caller's tenant (locked until the transaction ends when ``lock``); 404 otherwise."""
    if lock:
        task = await session.scalar(select(Task).where(Task.id == task_id).with_for_update())
        if task is None:
            raise AppError("not_found", "No task with this id.", status_code=404, details={"field": "task_id"})
        return task
    found: Task = await require_row(session, Task, task_id, "task_id")
    return found


async def require_worker(session: AsyncSession, task: Task, actor: CurrentUser) -> None:
    """``not_your_task`` (403) unless ``actor`` is the assignee, holds the role a task without an assignee
    is given to, or may change any task (``tasks:write``)."""
    if task.assignee_id == actor.id or actor.can(Permission.TASKS_WRITE):
        return
    role = None
    if task.assignee_id is None and task.assignee_role_id is not None:
        role = await session.scalar(select(Role.name).where(Role.id == task.assignee_role_id))
    check_worker(actor, assignee_id=task.assignee_id, assignee_role_id=task.assignee_role_id, role_name=role)


def check_worker(
    actor: CurrentUser, *, assignee_id: UUID | None, assignee_role_id: UUID | None, role_name: str | None
) -> None:
    """:func:`require_worker` on values already read: ``role_name`` is the name of ``assignee_role_id``.

    Raises:
        AppError: ``not_your_task`` (403).
    """
    if assignee_id == actor.id or actor.can(Permission.TASKS_WRITE):
        return
    if assignee_id is None and assignee_role_id is not None and role_name is not None and role_name in actor.roles:
        return
    raise AppError("not_your_task", "Only the task's assignee or a task manager may do this.", status_code=403)


def task_not_found() -> AppError:
    return AppError("not_found", "No task with this id.", status_code=404, details={"field": "task_id"})


async def audience(session: AsyncSession, task: Task) -> Recipients | None:
    """Who a task is for: its assignee; else everyone holding its role; else its workplace's current staff."""
    if task.assignee_id is not None:
        return Recipients(users=[task.assignee_id])
    if task.assignee_role_id is not None:
        role = await session.scalar(select(Role.name).where(Role.id == task.assignee_role_id))
        return Recipients(roles=[role]) if role is not None else None
    if task.workplace_id is not None:
        staff = await session.scalars(
            select(WorkplaceAssignment.user_id).where(
                WorkplaceAssignment.workplace_id == task.workplace_id,
                WorkplaceAssignment.ended_at.is_(None),
                WorkplaceAssignment.role == "staff",
            )
        )
        users = sorted(staff.all())
        return Recipients(users=users) if users else None
    return None


async def tell(
    session: AsyncSession, task: Task, *, title: str, body: str, key: str, exclude: UUID | None = None
) -> None:
    """Notify the task's :func:`audience` (but ``exclude``) in this transaction, once per ``key``."""
    recipients = await audience(session, task)
    if recipients is None:
        return
    if exclude is not None:
        if recipients.users == [exclude]:
            return
        recipients.exclude = [exclude]
    await notify(
        session,
        tenant_id=task.tenant_id,
        recipients=recipients,
        category="task",
        title=title[:200],
        body=body,
        priority=NOTIFY_PRIORITY[task.priority],
        link=f"/tasks/{task.id}",
        data={"task_id": str(task.id)},
        idempotency_key=key,
    )


def task_state(task: object, fields: list[str] | None = None) -> dict[str, Any]:
    """The task as its page shows it (and which ``fields`` changed), for its live event."""
    state: dict[str, Any] = msgspec.to_builtins(task_response(task))
    return state if fields is None else {"task": state, "fields": fields}


def announce(
    session: AsyncSession | DriverTransaction,
    task: TaskFacts,
    change: TaskChange,
    data: dict[str, Any],
    *,
    by: UUID | None,
    now: datetime | None = None,
) -> None:
    """Queue the change for the task's page and, for its status or lateness, for the board (sent after commit)."""
    queue_event(
        session, task_topic(task.tenant_id, task.id), TaskEvent(task_id=task.id, change=change, by=by, data=data)
    )
    if change in ("created", "status", "overdue"):
        overdue = task.due_at is not None and task.due_at <= (now or utc_now()) and task.status in OPEN_STATUSES
        board_event = TaskOnBoard(
            task_id=task.id,
            change=change,
            status=task.status,
            overdue=overdue,
            workplace_id=task.workplace_id,
            assignee_id=task.assignee_id,
            due_at=task.due_at,
        )
        queue_event(session, board_topic(task.tenant_id), board_event)


def audit_task(
    session: AsyncSession | DriverTransaction,
    actor: CurrentUser,
    origin: Origin,
    action: str,
    task_id: UUID,
    details: dict[str, Any] | None = None,
) -> None:
    record(
        session,
        tenant_id=actor.tenant_id,
        action=action,
        actor_user_id=actor.id,
        origin=origin,
        target_type="task",
        target_id=task_id,
        details=details,
    )
