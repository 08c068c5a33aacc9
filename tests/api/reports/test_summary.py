"""The daily attendance summary is kept by the worker: its periodic job rebuilds the days that changed."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from api.reports.jobs import REPORT_PERIODICS
from api.reports.summary import SUMMARY_JOB
from api.runtime import Runtime
from persistence.jobs import enqueue
from persistence.models import AttendanceDaily
from tests.api.fieldops.fieldkit import Client, make_workplace, stay
from tests.api.reports.test_schedules import report_worker
from tests.kit import TenantKit, eventually


async def test_the_worker_refreshes_the_daily_summary(client: Client, tenant: TenantKit, runtime: Runtime) -> None:
    assert SUMMARY_JOB in {periodic.kind for periodic in REPORT_PERIODICS}
    place = await make_workplace(client, await tenant.headers(client))
    staff = tenant.users["staff"]
    await stay(tenant, staff, place["id"], datetime(2026, 3, 2, 8, tzinfo=UTC), datetime(2026, 3, 2, 10, tzinfo=UTC))
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        await enqueue(
            session, tenant_id=tenant.id, kind=SUMMARY_JOB, payload={"slot_start": datetime.now(UTC).isoformat()}
        )

    async def summary() -> list[tuple[int, int]]:
        async with runtime.db.transaction(tenant_id=tenant.id) as session:
            rows = await session.execute(
                select(AttendanceDaily.stays, AttendanceDaily.worked_minutes).where(AttendanceDaily.user_id == staff)
            )
            return [tuple(row) for row in rows.tuples()]

    async with report_worker(runtime):
        assert await eventually(summary) == [(1, 120)]
