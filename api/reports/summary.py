"""The daily attendance summary: rebuilt incrementally by the worker for the local days whose stays changed.

A refresh finds the earliest local day of any stay or break changed since the summary's last refresh (its
newest ``updated_at``), then rebuilds every summary row from that day on in one statement, so the
attendance summary report reads one row per person, workplace and day.
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

# The earliest local day touched since the last refresh; NULL when nothing changed.
_CHANGED_FROM = text("""
WITH mark AS (SELECT coalesce(max(updated_at), '-infinity'::timestamptz) AS at FROM attendance_daily)
SELECT min((r.clock_in_at AT TIME ZONE :tz)::date)
FROM attendance_record r, mark
WHERE r.updated_at > mark.at
   OR EXISTS (SELECT 1 FROM attendance_break b WHERE b.attendance_id = r.id AND b.updated_at > mark.at)
""")
_CLEAR = text("DELETE FROM attendance_daily WHERE day >= :since")
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
WHERE (r.clock_in_at AT TIME ZONE :tz)::date >= :since
GROUP BY r.tenant_id, r.user_id, r.workplace_id, (r.clock_in_at AT TIME ZONE :tz)::date
""")


async def refresh_attendance_daily(session: AsyncSession, tenant_id: UUID) -> int:
    """Bring the session's tenant's summary up to date; returns how many summary rows were rebuilt."""
    zone = await tenant_timezone(session, tenant_id)
    since = await session.scalar(_CHANGED_FROM, {"tz": zone})
    if since is None:
        return 0
    await session.execute(_CLEAR, {"since": since})
    result = await session.execute(_REBUILD, {"tz": zone, "since": since})
    return int(getattr(result, "rowcount", 0) or 0)


def summary_job_handlers(*, db: Database) -> dict[str, Callable[[ClaimedJob], Awaitable[None]]]:
    """The worker's handler that keeps each tenant's attendance summary fresh."""

    async def refresh(job: ClaimedJob) -> None:
        async with db.transaction(tenant_id=job.tenant_id) as session:
            await refresh_attendance_daily(session, job.tenant_id)

    return {SUMMARY_JOB: refresh}
