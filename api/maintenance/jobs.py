"""The maintenance job ``fieldhub worker`` runs: every five minutes per tenant, report the SLAs just missed."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Final

from api.maintenance.sla import report_breaches
from persistence.schedule import Periodic

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from persistence.engine import Database
    from persistence.jobs import ClaimedJob

__all__ = ["MAINTENANCE_PERIODICS", "SLA_JOB", "maintenance_job_handlers"]

log = logging.getLogger("fieldhub.maintenance")

SLA_JOB: Final = "maintenance.sla"
MAINTENANCE_PERIODICS: Final = [Periodic(kind=SLA_JOB, interval=timedelta(minutes=5))]


def maintenance_job_handlers(*, db: Database) -> dict[str, Callable[[ClaimedJob], Awaitable[None]]]:
    """The maintenance handlers ``fieldhub worker`` runs, by job kind."""

    async def sla_breaches(job: ClaimedJob) -> None:
        # Judged at the time the job was scheduled for, not whenever a busy worker got to it.
        now = datetime.fromisoformat(job.payload["slot_start"])
        async with db.transaction(tenant_id=job.tenant_id) as session:
            reported = await report_breaches(session, tenant_id=job.tenant_id, now=now)
        if reported:
            log.info("maintenance SLA breaches", extra={"tenant_id": str(job.tenant_id), "reported": reported})

    return {SLA_JOB: sla_breaches}
