"""Pages of tasks with their filters: one prepared statement per combination of filters, the page and its
total read together."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any, NamedTuple, cast

from advanced_alchemy.filters import LIKE_ESCAPE_CHAR, escape_like_value
from sqlalchemy import String, and_, any_, bindparam, func, or_, select

from api.tasks.schemas import OPEN_STATUSES, TaskResponse
from api.workplaces.base import require_aware
from persistence.models import Task, UserRole
from persistence.prepared import DriverTransaction, Prepared, one_of

if TYPE_CHECKING:
    from datetime import datetime
    from uuid import UUID

    from sqlalchemy import Table
    from sqlalchemy.ext.asyncio import AsyncSession

_TASK = cast("Table", Task.__table__)
_USER_ROLE = cast("Table", UserRole.__table__)
_FIELDS: tuple[str, ...] = TaskResponse.__struct_fields__
_OPEN = one_of(_TASK.c.status, OPEN_STATUSES)


async def task_page(
    session: AsyncSession | DriverTransaction,
    *,
    limit: int,
    offset: int,
    still_open: bool | None = None,
    assignee_id: UUID | None = None,
    workplace_id: UUID | None = None,
    status: str | None = None,
    priority: str | None = None,
    label: str | None = None,
    due_before: datetime | None = None,
    search: str | None = None,
    mine: UUID | None = None,
) -> tuple[list[TaskResponse], int]:
    """One page of tasks, soonest due first (undated last), and how many match in all.

    ``still_open``: only tasks still to do (``True``) or only done and cancelled ones (``False``); ``search``
    matches the title, literally; ``mine`` names a person: their tasks, and those without an assignee given
    to one of their roles. A page past the end asks for the total on its own, so it still reports the true one.

    Raises:
        AppError: ``naive_datetime`` (422) for a ``due_before`` without an offset.
    """
    values: dict[str, Any] = {
        "assignee_id": assignee_id,
        "workplace_id": workplace_id,
        "status": status,
        "priority": priority,
        "label": label,
        "due_before": require_aware(due_before, "due_before") if due_before is not None else None,
        "search": f"%{escape_like_value(search)}%" if search else None,
        "mine": mine,
    }
    given = {name: value for name, value in values.items() if value is not None}
    page_of, count_of = _statements(_Shape(filters=frozenset(given), open=still_open))
    rows = await page_of.fetch(session, limit=limit, offset=offset, **given)
    if rows:
        total = int(rows[0]["total"])
    elif offset == 0:
        total = 0
    else:
        total = int(await count_of.scalar(session, **given) or 0)
    return [TaskResponse(*row[: len(_FIELDS)]) for row in rows], total


class _Shape(NamedTuple):
    filters: frozenset[str]
    """The filters given (their values are parameters)."""
    open: bool | None


@cache
def _statements(shape: _Shape) -> tuple[Prepared, Prepared]:
    """A page of tasks and its total for one combination of filters, compiled once per combination
    (a phone's "my open tasks" is one of them, asked all day)."""
    conditions: list[Any] = [
        _TASK.c[name] == bindparam(name)
        for name in ("assignee_id", "workplace_id", "status", "priority")
        if name in shape.filters
    ]
    if shape.open is not None:
        conditions.append(_OPEN if shape.open else ~_OPEN)
    if "search" in shape.filters:
        conditions.append(_TASK.c.title.ilike(bindparam("search", type_=String), escape=LIKE_ESCAPE_CHAR))
    if "mine" in shape.filters:
        my_roles = select(_USER_ROLE.c.role_id).where(_USER_ROLE.c.user_id == bindparam("mine"))
        conditions.append(
            or_(
                _TASK.c.assignee_id == bindparam("mine"),
                and_(_TASK.c.assignee_id.is_(None), _TASK.c.assignee_role_id.in_(my_roles)),
            )
        )
    if "label" in shape.filters:
        conditions.append(bindparam("label", type_=String) == any_(_TASK.c.labels))
    if "due_before" in shape.filters:
        conditions.append(_TASK.c.due_at < bindparam("due_before"))
    page = (
        select(*(_TASK.c[name] for name in _FIELDS), func.count().over().label("total"))
        .where(*conditions)
        .order_by(_TASK.c.due_at.asc(), _TASK.c.id.asc())
        .limit(bindparam("limit"))
        .offset(bindparam("offset"))
    )
    return Prepared(page), Prepared(select(func.count()).select_from(_TASK).where(*conditions))
