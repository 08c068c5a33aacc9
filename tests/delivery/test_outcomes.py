"""Recording outcomes as sends finish: a batch keeps at most its limit of sends out without their record."""

from __future__ import annotations

import asyncio

from sqlalchemy.ext.asyncio import AsyncSession

from api.runtime import Runtime
from delivery.outcomes import record_as_they_come
from tests.kit import TenantKit, eventually


async def test_a_batch_starts_a_send_beyond_its_limit_only_once_an_earlier_one_is_recorded(
    runtime: Runtime, tenant: TenantKit
) -> None:
    answered = asyncio.Event()
    started: list[int] = []
    recorded: list[int] = []

    async def send(n: int) -> int:
        started.append(n)
        await answered.wait()
        return n

    async def write(session: AsyncSession, results: list[int]) -> None:
        recorded.extend(results)

    sends = [send(n) for n in range(12)]
    recording = asyncio.create_task(record_as_they_come(runtime.db, tenant.id, sends, write, limit=8))

    async def eight_out() -> bool:
        return len(started) >= 8

    await eventually(eight_out)
    assert (started, recorded) == (list(range(8)), [])
    answered.set()
    await asyncio.wait_for(recording, 15)
    assert sorted(recorded) == list(range(12))
