"""The task jobs ``fieldhub worker`` runs per tenant: recurring tasks (hourly) and due times (every 5 minutes).

Both are periodic (``persistence.schedule``); a handler judges against its slot's start, the time it
was scheduled for, so a busy worker that runs it late does the same work.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Final

from api.tasks.services.deadlines import watch_deadlines
from api.tasks.services.templates import generate_tasks
from persistence.schedule import Periodic

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from persistence.engine import Database
    from persistence.jobs import ClaimedJob

__all__ = ["DEADLINES_JOB", "RECURRING_JOB", "TASK_PERIODICS", "task_job_handlers"]

log = logging.getLogger("fieldhub.tasks.jobs")

RECURRING_JOB: Final = "tasks.recurring"
DEADLINES_JOB: Final = "tasks.deadlines"
TASK_PERIODICS: Final = (
    Periodic(kind=RECURRING_JOB, interval=timedelta(hours=1)),
    Periodic(kind=DEADLINES_JOB, interval=timedelta(minutes=5)),
)


def slot_start(job: ClaimedJob) -> datetime:
    """The instant the job was scheduled for (``payload["slot_start"]``, ISO 8601 with an offset)."""
    return datetime.fromisoformat(job.payload["slot_start"])


def task_job_handlers(*, db: Database) -> dict[str, Callable[[ClaimedJob], Awaitable[None]]]:
    """The task handlers ``fieldhub worker`` runs, by job kind (merged with delivery's)."""

    async def recurring(job: ClaimedJob) -> None:
        async with db.transaction(tenant_id=job.tenant_id) as session:
            created = await generate_tasks(session, job.tenant_id, now=slot_start(job))
        if created:
            log.info("recurring tasks created", extra={"tenant_id": str(job.tenant_id), "tasks_created": created})

    async def deadlines(job: ClaimedJob) -> None:
        async with db.transaction(tenant_id=job.tenant_id) as session:
            await watch_deadlines(session, job.tenant_id, now=slot_start(job))

    return {RECURRING_JOB: recurring, DEADLINES_JOB: deadlines}
