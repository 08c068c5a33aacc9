"""Delivery metrics on real jobs: claimed, sent, failed and dead-lettered by kind; the queue's lag read from Postgres."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

from prometheus_client import REGISTRY

from api.runtime import Runtime
from delivery import metrics
from delivery.worker import Worker
from persistence.jobs import ClaimedJob, enqueue
from tests.kit import TenantKit


def _value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def test_job_outcomes_are_counted_by_kind(runtime: Runtime, tenant: TenantKit) -> None:
    ok, broken = f"test.ok.{secrets.token_hex(3)}", f"test.broken.{secrets.token_hex(3)}"
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        for n in range(2):
            await enqueue(session, tenant_id=tenant.id, kind=ok, payload={"n": n})
        await enqueue(session, tenant_id=tenant.id, kind=broken, payload={}, max_attempts=2)

    async def works(_: ClaimedJob) -> None:
        return None

    async def breaks(_: ClaimedJob) -> None:
        raise RuntimeError("provider down")

    worker = Worker(db=runtime.db, handlers={ok: works, broken: breaks})
    assert await worker.run_once() == 3
    assert _value("fieldhub_delivery_jobs_claimed_total", kind=ok) == 2
    assert _value("fieldhub_delivery_jobs_sent_total", kind=ok) == 2
    assert _value("fieldhub_delivery_jobs_failed_total", kind=broken) == 1
    assert _value("fieldhub_delivery_jobs_dead_lettered_total", kind=broken) == 0


async def test_the_queue_lag_is_the_age_of_the_oldest_due_job(runtime: Runtime, tenant: TenantKit) -> None:
    waiting, later = f"test.waiting.{secrets.token_hex(3)}", f"test.later.{secrets.token_hex(3)}"
    now = datetime.now(UTC)
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        await enqueue(session, tenant_id=tenant.id, kind=waiting, payload={}, run_at=now - timedelta(minutes=3))
        await enqueue(session, tenant_id=tenant.id, kind=waiting, payload={}, run_at=now - timedelta(seconds=5))
        await enqueue(session, tenant_id=tenant.id, kind=later, payload={}, run_at=now + timedelta(hours=1))
    await metrics.read_queue_stats(runtime.db)
    assert _value("fieldhub_delivery_jobs_ready", kind=waiting) == 2
    assert _value("fieldhub_delivery_jobs_scheduled", kind=later) == 1
    assert _value("fieldhub_delivery_jobs_ready", kind=later) == 0
    # No worker handles these kinds, so nothing else can claim them while the test reads.
    assert _value("fieldhub_delivery_queue_lag_seconds") >= 180
