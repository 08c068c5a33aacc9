"""The approvals' periodic job run by ``fieldhub worker``: one sweep per tenant every minute (reminders,
escalations, expiry), scheduled once however many workers run (:mod:`persistence.schedule`)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Final

import msgspec

from api.approvals.services.timeouts import sweep
from persistence.schedule import Periodic

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from persistence.engine import Database
    from persistence.jobs import ClaimedJob

log = logging.getLogger("fieldhub.approvals")

SWEEP_JOB: Final = "approvals.sweep"
PERIODIC = Periodic(kind=SWEEP_JOB, interval=timedelta(minutes=1))


def approval_job_handlers(db: Database) -> dict[str, Callable[[ClaimedJob], Awaitable[None]]]:
    """The approvals' handlers ``fieldhub worker`` runs, by job kind (``db`` must have action links installed)."""

    async def run_sweep(job: ClaimedJob) -> None:
        async with db.transaction(tenant_id=job.tenant_id) as session:
            report = await sweep(session, datetime.now(UTC))
        if report.reminded or report.escalated or report.expired:
            log.info("approvals sweep", extra={"tenant_id": str(job.tenant_id), **msgspec.structs.asdict(report)})

    return {SWEEP_JOB: run_sweep}
