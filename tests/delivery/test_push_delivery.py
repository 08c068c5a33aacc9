"""Web Push through a local push service: VAPID-signed, aes128gcm round trip, headers; 410, 429 and 500 answers."""

from __future__ import annotations

from sqlalchemy import select, text

from api.runtime import Runtime
from bench.push_service import FakeBrowser, running_push_service
from persistence.models import PushSubscription
from tests.delivery.arrange import send, status_is, subscribe
from tests.delivery.conftest import WorkerFactory
from tests.delivery.smtp_scripts import scripted_smtp
from tests.kit import TenantKit, eventually


async def test_a_push_is_signed_encrypted_and_carries_ttl_urgency_and_topic(
    runtime: Runtime, tenant: TenantKit, notification_worker: WorkerFactory
) -> None:
    async with running_push_service(FakeBrowser()) as service:
        await subscribe(runtime, tenant, service, service.endpoint("phone"))
        with scripted_smtp([]) as (_, port):
            async with notification_worker(smtp_port=port):
                notification_id = await send(runtime, tenant.id, tenant.users["staff"])
                await eventually(status_is(runtime, tenant.id, notification_id, "push", "sent"))
    [push] = service.received
    assert push["payload"]["id"] == str(notification_id)
    assert push["payload"]["title"] == "Wet floor in aisle 4"
    assert (push["urgency"], push["ttl"], push["topic"]) == ("high", "86400", notification_id.hex)


async def test_a_410_deletes_the_subscription(
    runtime: Runtime, tenant: TenantKit, notification_worker: WorkerFactory
) -> None:
    async with running_push_service(FakeBrowser()) as service:
        await subscribe(runtime, tenant, service, service.endpoint("gone", (410, {})))
        with scripted_smtp([]) as (_, port):
            async with notification_worker(smtp_port=port):
                notification_id = await send(runtime, tenant.id, tenant.users["staff"])
                await eventually(status_is(runtime, tenant.id, notification_id, "push", "skipped"))
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        assert await session.scalar(select(PushSubscription.id)) is None


async def test_a_429_is_retried_after_its_retry_after(
    runtime: Runtime, tenant: TenantKit, notification_worker: WorkerFactory
) -> None:
    async with running_push_service(FakeBrowser()) as service:
        await subscribe(runtime, tenant, service, service.endpoint("busy", (429, {"Retry-After": "1"})))
        with scripted_smtp([]) as (_, port):
            async with notification_worker(smtp_port=port):
                notification_id = await send(runtime, tenant.id, tenant.users["staff"])
                row = await eventually(status_is(runtime, tenant.id, notification_id, "push", "sent"))
    assert service.hits["busy"] == 2
    assert [e["status"] for e in row.log if "subscription" in e] == ["failed", "sent"]


async def test_a_500_fails_the_attempt_and_keeps_the_job_for_a_retry(
    runtime: Runtime, tenant: TenantKit, notification_worker: WorkerFactory
) -> None:
    async with running_push_service(FakeBrowser()) as service:
        await subscribe(runtime, tenant, service, service.endpoint("broken", (500, {})))
        with scripted_smtp([]) as (_, port):
            async with notification_worker(smtp_port=port):
                notification_id = await send(runtime, tenant.id, tenant.users["staff"])
                await eventually(status_is(runtime, tenant.id, notification_id, "push", "failed"))
                async with runtime.db.transaction(tenant_id=tenant.id) as session:
                    job = (
                        await session.execute(
                            text("SELECT status, last_error FROM job WHERE kind = 'notification.push'")
                        )
                    ).one()
    assert job.status == "queued"
    assert "retry" in job.last_error
