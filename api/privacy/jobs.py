"""The privacy jobs ``fieldhub worker`` runs: building exports, the hourly per-tenant retention sweep, and the
sweep that links audit entries a process committed but did not live to link."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING, Final
from uuid import UUID

import msgspec

from api.privacy.export import EXPORT_JOB, build_export
from api.privacy.retention import sweep_privacy
from persistence.audit_link import link_tenant
from persistence.schedule import Periodic

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from channels.storage import FileStorage
    from persistence.engine import Database
    from persistence.jobs import ClaimedJob

__all__ = ["AUDIT_LINK_JOB", "EXPORT_JOB", "PRIVACY_PERIODICS", "RETENTION_JOB", "privacy_job_handlers"]

log = logging.getLogger("fieldhub.privacy.jobs")

RETENTION_JOB: Final = "privacy.retention"
AUDIT_LINK_JOB: Final = "privacy.audit_link"
PRIVACY_PERIODICS: Final = (
    Periodic(kind=RETENTION_JOB, interval=timedelta(hours=1)),
    # The committing process links its entries within milliseconds; this catches a process that died first.
    Periodic(kind=AUDIT_LINK_JOB, interval=timedelta(minutes=1)),
)


def privacy_job_handlers(*, db: Database, storage: FileStorage) -> dict[str, Callable[[ClaimedJob], Awaitable[None]]]:
    """The privacy handlers ``fieldhub worker`` runs, by job kind (merged with delivery's)."""

    async def export(job: ClaimedJob) -> None:
        await build_export(db=db, storage=storage, tenant_id=job.tenant_id, export_id=UUID(job.payload["export_id"]))

    async def retention(job: ClaimedJob) -> None:
        report = await sweep_privacy(db=db, storage=storage, tenant_id=job.tenant_id)
        if report.removed_anything:
            log.info("privacy retention", extra={"tenant_id": str(job.tenant_id), **msgspec.structs.asdict(report)})

    async def audit_link(job: ClaimedJob) -> None:
        linked = await link_tenant(db.engine, job.tenant_id)
        if linked:
            log.info("audit entries linked by the sweep", extra={"tenant_id": str(job.tenant_id), "entries": linked})

    return {EXPORT_JOB: export, RETENTION_JOB: retention, AUDIT_LINK_JOB: audit_link}
