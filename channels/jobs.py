"""Chat maintenance jobs run by ``fieldhub worker``: the per-tenant sweep and stored-file deletion.

The sweep is a periodic job (``persistence.schedule``): ``fieldhub worker`` schedules one ``chat.sweep``
per tenant every ``chat_sweep_interval_seconds`` (an hour by default), however many workers run.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING, Final

import msgspec

from channels.attachments import DELETE_FILES_JOB
from channels.retention import ORPHAN_AFTER, sweep_tenant

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from channels.storage import FileStorage
    from persistence.engine import Database
    from persistence.jobs import ClaimedJob

__all__ = ["DELETE_FILES_JOB", "SWEEP_JOB", "chat_job_handlers"]

log = logging.getLogger("fieldhub.chat.jobs")

SWEEP_JOB: Final = "chat.sweep"


def chat_job_handlers(
    *, db: Database, storage: FileStorage, orphan_after: timedelta = ORPHAN_AFTER
) -> dict[str, Callable[[ClaimedJob], Awaitable[None]]]:
    """The chat handlers ``fieldhub worker`` runs, by job kind (merged with delivery's)."""

    async def sweep(job: ClaimedJob) -> None:
        report = await sweep_tenant(db=db, storage=storage, tenant_id=job.tenant_id, orphan_after=orphan_after)
        if report.removed_anything:
            log.info("chat sweep", extra={"tenant_id": str(job.tenant_id), **msgspec.structs.asdict(report)})

    async def delete_files(job: ClaimedJob) -> None:
        prefix = f"{job.tenant_id}/"
        for key in job.payload.get("keys", []):
            # A job only ever touches its own tenant's folder, whatever its payload says.
            if isinstance(key, str) and key.startswith(prefix):
                await storage.delete(key)

    return {SWEEP_JOB: sweep, DELETE_FILES_JOB: delete_files}
