"""The privacy jobs ``fieldhub worker`` runs: building exports, and the hourly per-tenant retention sweep."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING, Final
from uuid import UUID

import msgspec

from api.privacy.export import EXPORT_JOB, build_export
from api.privacy.retention import sweep_privacy
from persistence.schedule import Periodic

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from channels.storage import FileStorage
    from persistence.engine import Database
    from persistence.jobs import ClaimedJob

__all__ = ["EXPORT_JOB", "PRIVACY_PERIODICS", "RETENTION_JOB", "privacy_job_handlers"]

log = logging.getLogger("fieldhub.privacy.jobs")

RETENTION_JOB: Final = "privacy.retention"
PRIVACY_PERIODICS: Final = (Periodic(kind=RETENTION_JOB, interval=timedelta(hours=1)),)


def privacy_job_handlers(*, db: Database, storage: FileStorage) -> dict[str, Callable[[ClaimedJob], Awaitable[None]]]:
    """The privacy handlers ``fieldhub worker`` runs, by job kind (merged with delivery's)."""

    async def export(job: ClaimedJob) -> None:
        await build_export(db=db, storage=storage, tenant_id=job.tenant_id, export_id=UUID(job.payload["export_id"]))

    async def retention(job: ClaimedJob) -> None:
        report = await sweep_privacy(db=db, storage=storage, tenant_id=job.tenant_id)
        if report.removed_anything:
            log.info("privacy retention", extra={"tenant_id": str(job.tenant_id), **msgspec.structs.asdict(report)})

    return {EXPORT_JOB: export, RETENTION_JOB: retention}
