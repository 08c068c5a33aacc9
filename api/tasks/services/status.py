"""A task's move through its statuses, in prepared statements only, so it runs on a driver transaction (no
Session): one locking read of what the checks need, then one ``UPDATE ... RETURNING`` of the whole task."""

from __future__ import annotations

from datetime import UTC
from functools import cache
from typing import TYPE_CHECKING, Any, cast

import msgspec
from sqlalchemy import Text, bindparam, func, literal, select, update
from sqlalchemy import cast as sql_cast
from sqlalchemy.dialects.postgresql import aggregate_order_by

from api.errors import AppError
from api.tasks.schemas import ChecklistItemResponse, TaskDetail, TaskResponse
from api.tasks.services._base import announce, audit_task, check_worker, task_not_found, task_state
from api.workplaces.base import missing_row, utc_now
from persistence.models import Attachment, Role, Task, TaskChecklistItem, TaskDependency
from persistence.prepared import Prepared, Row

if TYPE_CHECKING:
    from uuid import UUID

    from sqlalchemy import Table
    from sqlalchemy.ext.asyncio import AsyncSession

    from api.audit import Origin
    from api.auth.principal import CurrentUser
    from api.tasks.schemas import StatusChange
    from persistence.prepared import DriverTransaction


async def change_status(
    db: AsyncSession | DriverTransaction, task_id: UUID, data: StatusChange, *, actor: CurrentUser, origin: Origin
) -> TaskDetail:
    """Move a task to ``data.status``, and answer with the task as it is now.

    One locking read of what the checks need, then one ``UPDATE ... RETURNING`` of the whole task with
    its dependencies and checklist (read after the lock, so they are current).

    Raises:
        AppError: ``not_found`` (404); ``not_your_task`` (403); for ``done``: ``blocked_by_dependencies``
            (409, naming them), ``photo_required`` (409) without an image attachment when the task
            requires one, ``not_found`` (404) for an attachment not in the tenant.
    """
    found = await _LOCK_FOR_STATUS.first(db, task_id=task_id)
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
        await _check_done(db, task_id, found.requires_photo, data.photo_attachment_id)
        values["completed_at"] = now
        if data.photo_attachment_id is not None:
            values["photo_attachment_id"] = data.photo_attachment_id
    unchanged = (
        data.status == found.status and found.completed_at is None and values["completed_at"] is None
    ) and "assignee_id" not in values
    if unchanged:
        # As the ORM did: nothing to write, so ``updated_at`` stays.
        row = await _READ_DETAIL.first(db, task_id=task_id)
    else:
        row = await _set_status(frozenset(values)).first(db, task_id=task_id, **values, updated_at=now)
    if row is None:  # not after the lock above; kept for the type
        raise task_not_found()
    audit_task(db, actor, origin, "task.status", task_id, {"from": found.status, "to": data.status})
    announce(db, row, "status", task_state(row), by=actor.id)
    return _detail_of(row)


async def _check_done(
    db: AsyncSession | DriverTransaction, task_id: UUID, requires_photo: bool, photo_attachment_id: UUID | None
) -> None:
    blocking = [str(row.id) for row in await _BLOCKING.fetch(db, task_id=task_id)]
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
    content_type = await _CONTENT_TYPE.scalar(db, attachment_id=photo_attachment_id)
    if content_type is None:
        raise missing_row("photo_attachment_id")
    if not content_type.startswith("image/"):
        raise AppError(
            "photo_required", "The proof must be an image.", status_code=409, details={"content_type": content_type}
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
_BLOCKING = Prepared(
    select(_TASK.c.id)
    .join(_DEPENDENCY, _DEPENDENCY.c.depends_on_id == _TASK.c.id)
    .where(_DEPENDENCY.c.task_id == bindparam("task_id"), _TASK.c.status != "done")
    .order_by(_TASK.c.id)
)
"""The tasks ``task_id`` waits for that are not done yet."""
_CONTENT_TYPE = Prepared(select(Attachment.content_type).where(Attachment.id == bindparam("attachment_id")))


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
