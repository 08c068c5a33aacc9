"""Recurring task templates, and the worker's generation of their occurrences into tasks a horizon ahead.

Generation is idempotent: a task is keyed by its template and occurrence (``uq_task_occurrence``), so
a job run twice, or two workers at once, create each task once.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from uuid import UUID
from zoneinfo import ZoneInfo

from advanced_alchemy.filters import OrderBy
from advanced_alchemy.repository import SQLAlchemyAsyncRepository
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from uuid_utils.compat import uuid7

from api.audit import Origin, record
from api.errors import AppError
from api.identity.services import check_timezone
from api.tasks.recurrence import Rule, occurrences
from api.tasks.services._base import announce, task_state, tell
from api.tasks.template_schemas import parse_local_time
from api.workplaces.base import AuditsTarget, FieldService, changes, equal_to, require_row
from persistence.models import Role, Task, TaskChecklistItem, TaskTemplate, User, Workplace

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from api.auth.principal import CurrentUser
    from api.tasks.template_schemas import TemplateCreate, TemplateUpdate

HORIZON = timedelta(days=7)
"""How far ahead occurrences become tasks, so people see the coming week's visits."""
CATCH_UP = timedelta(days=1)
"""How far back a worker that was down still creates missed occurrences (they are overdue at once)."""


class TemplateService(FieldService[TaskTemplate], AuditsTarget):
    """The tenant's recurring task templates."""

    audit_target = "task_template"

    class Repo(SQLAlchemyAsyncRepository[TaskTemplate]):
        model_type = TaskTemplate

    repository_type = Repo

    async def page(
        self, *, limit: int, offset: int, workplace_id: UUID | None = None, active: bool | None = None
    ) -> tuple[Sequence[TaskTemplate], int]:
        filters = equal_to(workplace_id=workplace_id, active=active)
        return await self.page_of(filters, limit=limit, offset=offset, order=[OrderBy("id", "asc")])

    async def create_template(self, data: TemplateCreate, *, actor: CurrentUser, origin: Origin) -> TaskTemplate:
        """Add a template; its occurrences become tasks at the worker's next run.

        Raises:
            AppError: ``invalid_recurrence`` / ``timezone_required`` / ``invalid_timezone`` (422);
                ``not_found`` (404) for an assignee, role or workplace not in the tenant.
        """
        fields: dict[str, Any] = {
            name: getattr(data, name)
            for name in data.__struct_fields__
            if name not in {"due_time", "labels", "checklist", "weekdays"}
        }
        template = TaskTemplate(
            tenant_id=actor.tenant_id,
            **fields,
            due_time=parse_local_time(data.due_time),
            labels=sorted(set(data.labels)),
            checklist=list(data.checklist),
            weekdays=sorted(set(data.weekdays)),
            active=True,
            created_by=actor.id,
        )
        await self._check(template)
        template = await self.create(template)
        self._audit(actor, origin, "task_template.create", template.id, {"frequency": template.frequency})
        return template

    async def update_template(
        self, template_id: UUID, data: TemplateUpdate, *, actor: CurrentUser, origin: Origin
    ) -> TaskTemplate:
        """Change a template (the same checks as on creation); tasks generated already are left as they are."""
        template: TaskTemplate = await require_row(self.session, TaskTemplate, template_id, "template_id")
        fields = changes(data)
        if "due_time" in fields:
            fields["due_time"] = parse_local_time(fields["due_time"])
        for name in ("labels", "weekdays"):
            if name in fields:
                fields[name] = sorted(set(fields[name]))
        for name, value in fields.items():
            setattr(template, name, value)
        await self._check(template)
        template = await self.update(template)
        self._audit(actor, origin, "task_template.update", template.id, {"fields": sorted(fields)})
        return template

    async def _check(self, template: TaskTemplate) -> None:
        problem = _recurrence_problem(template)
        if problem is not None:
            raise AppError("invalid_recurrence", problem, status_code=422)
        if template.assignee_id is not None:
            await require_row(self.session, User, template.assignee_id, "assignee_id", status="active")
        if template.assignee_role_id is not None:
            await require_row(self.session, Role, template.assignee_role_id, "assignee_role_id")
        if template.workplace_id is not None:
            await require_row(self.session, Workplace, template.workplace_id, "workplace_id")
        elif template.timezone is None:
            raise AppError(
                "timezone_required",
                "A template without a workplace needs a timezone for its due time.",
                status_code=422,
                details={"field": "timezone"},
            )
        if template.timezone is not None:
            check_timezone(template.timezone)


def _recurrence_problem(template: TaskTemplate) -> str | None:
    if template.ends_on is not None and template.ends_on < template.starts_on:
        return "ends_on is before starts_on."
    if template.frequency == "weekly" and not template.weekdays:
        return "A weekly template needs weekdays (0 = Monday .. 6 = Sunday)."
    if template.frequency == "monthly" and template.month_day is None:
        return "A monthly template needs month_day (1-31)."
    if template.frequency != "weekly" and template.weekdays:
        return "weekdays are for weekly templates only."
    if template.frequency != "monthly" and template.month_day is not None:
        return "month_day is for monthly templates only."
    return None


async def generate_tasks(session: AsyncSession, tenant_id: UUID, *, now: datetime) -> int:
    """Create the tasks of every active template's occurrences from ``now`` to ``now + HORIZON``.

    Runs in the worker as the tenant. Each new task gets the template's checklist, is audited, and is
    announced to whoever it is for, once per occurrence.

    Returns:
        How many tasks were created now (0 when a previous run made them all).
    """
    rows = await session.execute(
        select(TaskTemplate, Workplace.timezone)
        .outerjoin(Workplace, Workplace.id == TaskTemplate.workplace_id)
        .where(TaskTemplate.active.is_(True))
        .order_by(TaskTemplate.id)
    )
    created = 0
    for template, workplace_zone in rows.tuples():
        zone = ZoneInfo(workplace_zone or template.timezone or "UTC")
        rule = Rule(
            frequency=template.frequency,  # type: ignore[arg-type]  # checked on write
            due_time=template.due_time,
            starts_on=template.starts_on,
            ends_on=template.ends_on,
            weekdays=tuple(template.weekdays),
            month_day=template.month_day,
        )
        start = max(now - CATCH_UP, template.created_at)
        for due_at in occurrences(rule, zone, start, now + HORIZON):
            created += await _generate_one(session, template, due_at)
    return created


async def _generate_one(session: AsyncSession, template: TaskTemplate, due_at: datetime) -> int:
    task_id = await session.scalar(
        insert(Task)
        .values(
            id=uuid7(),
            tenant_id=template.tenant_id,
            title=template.title,
            description=template.description,
            assignee_id=template.assignee_id,
            assignee_role_id=template.assignee_role_id,
            workplace_id=template.workplace_id,
            created_by=template.created_by,
            due_at=due_at,
            priority=template.priority,
            status="todo",
            labels=template.labels,
            requires_photo=template.requires_photo,
            template_id=template.id,
            occurrence_at=due_at,
            created_at=datetime.now(due_at.tzinfo),
            updated_at=datetime.now(due_at.tzinfo),
        )
        .on_conflict_do_nothing(constraint="uq_task_occurrence")
        .returning(Task.id)
    )
    if task_id is None:
        return 0
    for position, text in enumerate(template.checklist):
        session.add(TaskChecklistItem(tenant_id=template.tenant_id, task_id=task_id, position=position, text=text))
    task = await session.get_one(Task, task_id)
    record(
        session,
        tenant_id=template.tenant_id,
        action="task.generate",
        actor_user_id=None,
        origin=Origin(),
        target_type="task",
        target_id=task_id,
        details={"template_id": str(template.id), "occurrence_at": due_at.isoformat()},
    )
    announce(session, task, "created", task_state(task), by=None)
    await tell(
        session,
        task,
        title=f"New task: {task.title}",
        body=f"{task.description[:3800]} Due {due_at.isoformat()}.".strip(),
        key=f"task.generated:{task.id}",
    )
    return 1
