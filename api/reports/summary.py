"""The daily attendance summary: rebuilt incrementally by the worker for the local days whose stays changed.

Triggers on the stays and breaks write every clock-in instant they insert, move or delete to
``attendance_change``; a refresh takes those rows and rebuilds the summary of exactly the people and local
days they name. A corrected stay so leaves its old day as well as joining its new one, a deleted stay leaves
its day, and a stay committed while a refresh ran is left for the next refresh rather than missed.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Final

from sqlalchemy import text

from api.reports.query import tenant_timezone
from persistence.schedule import Periodic

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable
    from uuid import UUID

    from sqlalchemy.ext.asyncio import AsyncSession

    from persistence.engine import Database
    from persistence.jobs import ClaimedJob

__all__ = ["SUMMARY_JOB", "SUMMARY_PERIODIC", "refresh_attendance_daily", "summary_job_handlers"]

SUMMARY_JOB: Final = "reports.attendance_daily"
SUMMARY_PERIODIC: Final = Periodic(kind=SUMMARY_JOB, interval=timedelta(minutes=5))

# The people and local days changed since the last refresh, taken so a later refresh sees only newer ones.
_TAKE_CHANGES = text("""
WITH taken AS (DELETE FROM attendance_change RETURNING user_id, clock_in_at)
SELECT DISTINCT user_id, (clock_in_at AT TIME ZONE :tz)::date FROM taken
""")
_CLEAR = text(
    "DELETE FROM attendance_daily "
    "WHERE (user_id, day) IN (SELECT * FROM unnest(CAST(:users AS uuid[]), CAST(:days AS date[])))"
)
# Minutes worked: closed stays only, less their breaks (an open break ends with the stay).
_REBUILD = text("""
INSERT INTO attendance_daily (id, tenant_id, user_id, workplace_id, day, stays, worked_minutes, break_minutes,
                              first_in_at, last_out_at, created_at, updated_at)
SELECT gen_random_uuid(), r.tenant_id, r.user_id, r.workplace_id, (r.clock_in_at AT TIME ZONE :tz)::date,
       count(*),
       coalesce(sum(CASE WHEN r.clock_out_at IS NOT NULL
                         THEN extract(epoch FROM r.clock_out_at - r.clock_in_at) / 60 - coalesce(br.minutes, 0)
                    END), 0)::integer,
       coalesce(sum(br.minutes), 0)::integer,
       min(r.clock_in_at), max(r.clock_out_at), clock_timestamp(), clock_timestamp()
FROM attendance_record r
LEFT JOIN LATERAL (
    SELECT sum(extract(epoch FROM coalesce(b.ended_at, r.clock_out_at) - b.started_at) / 60) AS minutes
    FROM attendance_break b WHERE b.attendance_id = r.id AND coalesce(b.ended_at, r.clock_out_at) IS NOT NULL
) br ON true
WHERE (r.user_id, (r.clock_in_at AT TIME ZONE :tz)::date) IN (SELECT * FROM unnest(CAST(:users AS uuid[]), CAST(:days AS date[])))
GROUP BY r.tenant_id, r.user_id, r.workplace_id, (r.clock_in_at AT TIME ZONE :tz)::date
""")


async def refresh_attendance_daily(session: AsyncSession, tenant_id: UUID) -> int:
    """Bring the session's tenant's summary up to date; returns how many summary rows were rebuilt."""
    # Two refreshes of one tenant at once would rebuild the same rows; the second waits for the first.
    await session.execute(
        text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"), {"key": f"attendance-summary:{tenant_id}"}
    )
    zone = await tenant_timezone(session, tenant_id)
    changed = (await session.execute(_TAKE_CHANGES, {"tz": zone})).tuples().all()
    if not changed:
        return 0
    pairs = {"users": [user for user, _ in changed], "days": [day for _, day in changed]}
    await session.execute(_CLEAR, pairs)
    result = await session.execute(_REBUILD, {"tz": zone, **pairs})
    return int(getattr(result, "rowcount", 0) or 0)


def summary_job_handlers(*, db: Database) -> dict[str, Callable[[ClaimedJob], Awaitable[None]]]:
    """The worker's handler that keeps each tenant's attendance summary fresh."""

    async def refresh(job: ClaimedJob) -> None:
        async with db.transaction(tenant_id=job.tenant_id) as session:
            await refresh_attendance_daily(session, job.tenant_id)

    return {SUMMARY_JOB: refresh}
