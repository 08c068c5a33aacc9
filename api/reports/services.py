"""Report rules: a report runs over its caller's scope; a schedule names a known template, a five-field cron
expression and mailable recipients, and runs once per due time in the tenant's time zone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from uuid import UUID
from zoneinfo import ZoneInfo

import msgspec
from advanced_alchemy.repository import SQLAlchemyAsyncRepository
from croniter import croniter
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import defer
from uuid_utils.compat import uuid7

from api.audit import Origin, record
from api.errors import AppError
from api.identity.services._base import IdentityService
from api.reports.query import ReportParams, ReportQuery, resolve_query, scope_of, tenant_timezone
from api.reports.templates import Template, template_named
from delivery.email import check_address
from delivery.errors import NotifyError
from persistence.jobs import enqueue
from persistence.models import ReportRun, ReportSchedule

if TYPE_CHECKING:
    from collections.abc import Sequence

    from sqlalchemy import Select
    from sqlalchemy.ext.asyncio import AsyncSession

    from api.auth.principal import CurrentUser
    from api.reports.schemas import ScheduleCreate

__all__ = ["RUN_JOB", "ScheduleService", "check_cron", "due_at", "enqueue_due_runs", "next_run", "prepare"]

RUN_JOB = "reports.run"
RUN_ATTEMPTS = 3
MAX_RECIPIENTS = 20


async def prepare(
    session: AsyncSession,
    *,
    tenant_id: UUID,
    user_id: UUID,
    permissions: frozenset[str],
    template: str,
    params: ReportParams,
    now: datetime | None = None,
) -> tuple[Template, ReportQuery, Select[Any]]:
    """The template, its resolved window and the statement of its rows, as ``user_id`` may see them.

    Raises:
        AppError: ``unknown_report`` (404), ``invalid_range`` or ``unsupported_parameter`` (422).
    """
    chosen = template_named(template)
    scope = await scope_of(session, user_id, permissions)
    query = await resolve_query(session, tenant_id=tenant_id, params=params, scope=scope, now=now)
    return chosen, query, await chosen.build(session, query)


def check_cron(expression: str) -> str:
    """``expression`` if it is a cron expression of five fields (minute hour day month weekday).

    Raises:
        AppError: ``invalid_cron`` (422) saying so.
    """
    if len(expression.split()) != 5 or not croniter.is_valid(expression):
        raise AppError(
            "invalid_cron",
            "The schedule must be a cron expression of five fields: minute hour day-of-month month day-of-week.",
            status_code=422,
            details={"cron": expression},
        )
    return expression


def due_at(schedule: ReportSchedule, now: datetime) -> datetime:
    """The schedule's latest fire time at or before ``now``, computed in its time zone, in UTC."""
    local = now.astimezone(ZoneInfo(schedule.timezone)) + timedelta(seconds=1)
    previous: datetime = croniter(schedule.cron, local).get_prev(datetime)
    return previous.astimezone(UTC)


def next_run(schedule: ReportSchedule, now: datetime) -> datetime:
    """The schedule's next fire time after ``now``, in UTC."""
    following: datetime = croniter(schedule.cron, now.astimezone(ZoneInfo(schedule.timezone))).get_next(datetime)
    return following.astimezone(UTC)


async def enqueue_due_runs(session: AsyncSession, *, tenant_id: UUID, now: datetime) -> int:
    """Add a run, and its job, for every active schedule whose latest fire time has no run yet.

    A schedule is not run for fire times before it was created; a worker down for a while runs only the
    latest missed time. The run's key (schedule, due time) makes any number of workers add it once.

    Returns:
        How many runs were added.
    """
    added = 0
    for schedule in await session.scalars(select(ReportSchedule).where(ReportSchedule.active.is_(True))):
        due = due_at(schedule, now)
        if due < schedule.created_at:
            continue
        run_id = await session.scalar(
            insert(ReportRun)
            .values(
                id=uuid7(),
                tenant_id=tenant_id,
                schedule_id=schedule.id,
                due_at=due,
                status="queued",
                created_at=now,
                updated_at=now,
            )
            .on_conflict_do_nothing(index_elements=["schedule_id", "due_at"])
            .returning(ReportRun.id)
        )
        if run_id is None:
            continue
        await enqueue(
            session,
            tenant_id=tenant_id,
            kind=RUN_JOB,
            payload={"run_id": str(run_id)},
            idempotency_key=f"run:{run_id}",
            max_attempts=RUN_ATTEMPTS,
        )
        added += 1
    return added


class ScheduleService(IdentityService[ReportSchedule]):
    """The tenant's report schedules and their runs."""

    class Repo(SQLAlchemyAsyncRepository[ReportSchedule]):
        model_type = ReportSchedule

    repository_type = Repo

    async def create_schedule(self, data: ScheduleCreate, *, actor: CurrentUser, origin: Origin) -> ReportSchedule:
        """Add a schedule owned by ``actor``, checked by preparing its report once.

        Raises:
            AppError: ``invalid_cron``, ``invalid_schedule`` (a name or recipients out of bounds),
                ``invalid_email``, and the errors of :func:`prepare`.
        """
        check_cron(data.cron)
        if not 0 < len(data.name.strip()) <= 200 or not 0 < len(data.recipients) <= MAX_RECIPIENTS:
            raise AppError(
                "invalid_schedule",
                f"A schedule needs a name of 1 to 200 characters and 1 to {MAX_RECIPIENTS} recipients.",
                status_code=422,
            )
        try:
            recipients = [check_address(address) for address in data.recipients]
        except NotifyError as exc:
            raise AppError(exc.code, exc.message, status_code=422, details=exc.details) from exc
        await prepare(
            self.session,
            tenant_id=actor.tenant_id,
            user_id=actor.id,
            permissions=actor.permissions,
            template=data.template,
            params=data.params,
        )
        schedule = await self.create(
            ReportSchedule(
                tenant_id=actor.tenant_id,
                owner_id=actor.id,
                name=data.name.strip(),
                template=data.template,
                params=msgspec.to_builtins(data.params),
                cron=data.cron,
                timezone=await tenant_timezone(self.session, actor.tenant_id),
                recipients=recipients,
                active=True,
            )
        )
        record(
            self.session,
            tenant_id=actor.tenant_id,
            action="report.schedule.create",
            actor_user_id=actor.id,
            origin=origin,
            target_type="report_schedule",
            target_id=schedule.id,
            details={"template": data.template, "cron": data.cron, "recipients": len(recipients)},
        )
        return schedule

    async def visible(self, schedule_id: UUID, actor: CurrentUser) -> ReportSchedule:
        """The schedule if ``actor`` owns it or may see every report (``404 not_found`` otherwise)."""
        schedule = await self.get_one_or_none(id=schedule_id)
        if schedule is None or (schedule.owner_id != actor.id and not actor.can("reports:all")):
            raise AppError("not_found", "No such report schedule.", status_code=404)
        return schedule

    async def listed(self, actor: CurrentUser) -> Sequence[ReportSchedule]:
        """The actor's schedules (everyone's with ``reports:all``), newest first."""
        statement = select(ReportSchedule).order_by(ReportSchedule.created_at.desc(), ReportSchedule.id.desc())
        if not actor.can("reports:all"):
            statement = statement.where(ReportSchedule.owner_id == actor.id)
        return (await self.session.scalars(statement)).all()

    async def remove(self, schedule_id: UUID, *, actor: CurrentUser, origin: Origin) -> None:
        """Delete a schedule and its history of runs (audited)."""
        schedule = await self.visible(schedule_id, actor)
        await self.delete(schedule.id)
        record(
            self.session,
            tenant_id=actor.tenant_id,
            action="report.schedule.delete",
            actor_user_id=actor.id,
            origin=origin,
            target_type="report_schedule",
            target_id=schedule.id,
        )

    async def runs(self, schedule: ReportSchedule, *, limit: int, offset: int) -> Sequence[ReportRun]:
        """The schedule's runs, the latest due first (without their outputs)."""
        rows = await self.session.scalars(
            select(ReportRun)
            .options(defer(ReportRun.output))
            .where(ReportRun.schedule_id == schedule.id)
            .order_by(ReportRun.due_at.desc())
            .limit(limit)
            .offset(offset)
        )
        return rows.all()
