"""Periodic per-tenant jobs: one job per kind, tenant and interval, whoever schedules it."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from api.runtime import Runtime
from persistence.models import Job
from persistence.schedule import Periodic, run_schedule, schedule_due
from tests.kit import TenantKit, eventually

HOURLY = Periodic(kind="test.hourly", interval=timedelta(hours=1))
DAILY = Periodic(kind="test.daily", interval=timedelta(days=1))
SLOT_TIME = datetime(2031, 1, 1, 10, 30, tzinfo=UTC)


async def _jobs(runtime: Runtime, tenant: TenantKit, kind: str) -> list[Job]:
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        return list(await session.scalars(select(Job).where(Job.kind == kind)))


async def test_a_slot_is_enqueued_once_however_often_it_is_scheduled(runtime: Runtime, tenant: TenantKit) -> None:
    await schedule_due(runtime.db, [HOURLY], now=SLOT_TIME)
    again = await schedule_due(runtime.db, [HOURLY], now=SLOT_TIME + timedelta(minutes=10))

    assert again == 0
    jobs = await _jobs(runtime, tenant, HOURLY.kind)
    assert [job.idempotency_key for job in jobs] == [f"slot:{int(SLOT_TIME.timestamp() // 3600)}"]


async def test_the_next_interval_enqueues_the_next_slot(runtime: Runtime, tenant: TenantKit) -> None:
    await schedule_due(runtime.db, [HOURLY], now=SLOT_TIME)
    await schedule_due(runtime.db, [HOURLY], now=SLOT_TIME + timedelta(hours=1))

    assert len(await _jobs(runtime, tenant, HOURLY.kind)) == 2


async def test_every_tenant_gets_its_own_job(runtime: Runtime, tenant: TenantKit, other_tenant: TenantKit) -> None:
    await schedule_due(runtime.db, [HOURLY], now=SLOT_TIME)

    assert len(await _jobs(runtime, tenant, HOURLY.kind)) == 1
    assert len(await _jobs(runtime, other_tenant, HOURLY.kind)) == 1


async def test_the_payload_names_the_start_of_the_slot(runtime: Runtime, tenant: TenantKit) -> None:
    await schedule_due(runtime.db, [HOURLY, DAILY], now=SLOT_TIME)

    [hourly] = await _jobs(runtime, tenant, HOURLY.kind)
    [daily] = await _jobs(runtime, tenant, DAILY.kind)
    assert hourly.payload == {"slot_start": "2031-01-01T10:00:00+00:00"}
    assert daily.payload == {"slot_start": "2031-01-01T00:00:00+00:00"}


async def test_the_running_schedule_enqueues_at_once_and_stops_when_told(runtime: Runtime, tenant: TenantKit) -> None:
    stop = asyncio.Event()
    schedule = asyncio.create_task(run_schedule(runtime.db, stop, [HOURLY]))
    try:
        await eventually(lambda: _jobs(runtime, tenant, HOURLY.kind))
    finally:
        stop.set()
        await asyncio.wait_for(schedule, timeout=10)
    assert schedule.done()


async def test_a_round_stops_at_the_tenant_at_hand_once_the_worker_stops(runtime: Runtime, tenant: TenantKit) -> None:
    stop = asyncio.Event()
    stop.set()

    enqueued = await schedule_due(runtime.db, [HOURLY], now=SLOT_TIME + timedelta(days=7), stop=stop)

    assert enqueued == 0
    assert await _jobs(runtime, tenant, HOURLY.kind) == []
