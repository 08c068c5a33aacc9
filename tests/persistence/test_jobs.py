"""The durable job queue: outbox semantics, idempotency, SKIP LOCKED claims, retries and dead letters."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from api.runtime import Runtime
from persistence.jobs import JobQueue, enqueue
from persistence.models import Job
from tests.kit import TenantKit


async def _jobs(runtime: Runtime, tenant: TenantKit, kind: str) -> list[Job]:
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        return list((await session.scalars(select(Job).where(Job.kind == kind))).all())


async def test_a_rolled_back_transaction_leaves_no_job(runtime: Runtime, tenant: TenantKit) -> None:
    async def change_that_fails() -> None:
        async with runtime.db.transaction(tenant_id=tenant.id) as session:
            await enqueue(session, tenant_id=tenant.id, kind="test.rollback", payload={})
            raise RuntimeError("domain change failed")

    with pytest.raises(RuntimeError, match="domain change failed"):
        await change_that_fails()
    assert await _jobs(runtime, tenant, "test.rollback") == []


async def test_the_same_idempotency_key_enqueues_once(runtime: Runtime, tenant: TenantKit) -> None:
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        assert await enqueue(session, tenant_id=tenant.id, kind="test.once", payload={"n": 1}, idempotency_key="k")
        assert not await enqueue(session, tenant_id=tenant.id, kind="test.once", payload={"n": 2}, idempotency_key="k")
    jobs = await _jobs(runtime, tenant, "test.once")
    assert [j.payload for j in jobs] == [{"n": 1}]


async def test_concurrent_claims_never_share_a_job(runtime: Runtime, tenant: TenantKit) -> None:
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        for n in range(20):
            await enqueue(session, tenant_id=tenant.id, kind="test.race", payload={"n": n})
    queue = JobQueue(db=runtime.db)
    batches = await asyncio.gather(*(queue.claim(["test.race"], 5) for _ in range(6)))
    claimed = [job.id for batch in batches for job in batch]
    assert len(claimed) == 20
    assert len(set(claimed)) == 20


async def test_a_failed_job_is_retried_later_then_dead_lettered(runtime: Runtime, tenant: TenantKit) -> None:
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        await enqueue(session, tenant_id=tenant.id, kind="test.flaky", payload={}, max_attempts=2)
    queue = JobQueue(db=runtime.db)
    (first,) = await queue.claim(["test.flaky"], 10)
    assert await queue.fail(first, "smtp down") is False
    (job,) = await _jobs(runtime, tenant, "test.flaky")
    assert job.status == "queued"
    assert job.run_at > datetime.now(UTC)
    assert await queue.claim(["test.flaky"], 10) == []  # not due yet
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        await session.execute(
            update(Job).where(Job.id == job.id).values(run_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    (second,) = await queue.claim(["test.flaky"], 10)
    assert second.attempts == 2
    assert await queue.fail(second, "smtp still down") is True
    (dead,) = await _jobs(runtime, tenant, "test.flaky")
    assert (dead.status, dead.last_error, dead.finished_at is not None) == ("dead", "smtp still down", True)


async def test_a_job_whose_lease_expired_is_claimed_again(runtime: Runtime, tenant: TenantKit) -> None:
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        await enqueue(session, tenant_id=tenant.id, kind="test.lease", payload={})
    (first,) = await JobQueue(db=runtime.db, lease_seconds=0).claim(["test.lease"], 1)
    (again,) = await JobQueue(db=runtime.db).claim(["test.lease"], 1)
    assert again.id == first.id
    assert again.attempts == 2
    # The first worker, come back late, cannot settle a job that is no longer its own.
    await JobQueue(db=runtime.db).complete(first)
    (job,) = await _jobs(runtime, tenant, "test.lease")
    assert job.status == "running"
