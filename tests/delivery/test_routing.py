"""Routing through a real worker, push service and SMTP server: presence, reading first, quiet hours, mute, digests.

Escalation delays are minutes long; a test makes the jobs it wants due now (``run_due_now``).
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from uuid import UUID
from zoneinfo import ZoneInfo

import pytest
import redis.asyncio as aioredis
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import select, text, update

from api.runtime import Runtime
from api.settings import Settings
from bench.push_service import FakeBrowser, PushService, running_push_service
from delivery.subscriptions import save_subscription
from hub.config import HubConfig
from hub.presence import Presence
from persistence.models import Job, User
from tests.delivery.arrange import delivery, send
from tests.delivery.conftest import WorkerFactory
from tests.delivery.smtp_scripts import scripted_smtp
from tests.kit import TenantKit, eventually
from tests.nodes import AppNode, next_frame


@pytest.fixture(scope="module")
async def node(settings: Settings) -> AsyncIterator[AppNode]:
    """``fieldhub serve`` as its own process: a socket on it makes its user online in the hub."""
    started = AppNode(settings)
    try:
        await started.ready()
        yield started
    finally:
        started.stop()


@pytest.fixture(autouse=True)
async def _no_jobs_left_behind(runtime: Runtime, tenant: TenantKit) -> AsyncIterator[None]:
    """Finish the tenant's unsent jobs after the test: workers claim across tenants, and a later
    test's worker must not send this test's mail."""
    yield
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        await session.execute(
            update(Job).where(Job.status.in_(("queued", "running"))).values(status="done", last_error="test over")
        )


@pytest.fixture
async def presence(redis_client: aioredis.Redis) -> Presence:
    """The hub's presence as the worker reads it (the same Redis the node writes to)."""
    return Presence(redis=redis_client, node_id=f"test-worker-{secrets.token_hex(3)}", config=HubConfig())


async def _subscribe(runtime: Runtime, tenant: TenantKit, service: PushService, name: str = "phone") -> None:
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        await save_subscription(
            session,
            tenant_id=tenant.id,
            user_id=tenant.users["staff"],
            info=service.browser.subscription(service.endpoint(name)),
            allow_insecure=True,  # the stand-in speaks plain http on loopback
        )


async def run_due_now(runtime: Runtime, tenant: TenantKit, kind: str) -> None:
    """Make the tenant's queued jobs of ``kind`` due at once, as if their delay had passed."""
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        await session.execute(
            update(Job).where(Job.kind == kind, Job.status == "queued").values(run_at=datetime.now(UTC))
        )


async def _status(runtime: Runtime, tenant: TenantKit, notification_id: UUID, channel: str, wanted: str) -> object:
    async def check() -> object:
        row = await delivery(runtime, tenant.id, notification_id, channel)
        return row if row.status == wanted else None

    return await eventually(check)


async def _preferences(client: AsyncTestClient[Litestar], tenant: TenantKit, **body: object) -> None:
    response = await client.put(
        "/api/v1/notifications/preferences", json=body, headers=await tenant.headers(client, "staff")
    )
    assert response.status_code == 200, response.text


async def test_push_waits_while_the_user_is_online_in_the_hub_and_goes_once_offline(
    runtime: Runtime,
    tenant: TenantKit,
    client: AsyncTestClient[Litestar],
    node: AppNode,
    presence: Presence,
    notification_worker: WorkerFactory,
) -> None:
    async with running_push_service(FakeBrowser()) as service:
        await _subscribe(runtime, tenant, service)
        with scripted_smtp([]) as (_, port):
            async with notification_worker(smtp_port=port, presence=presence):
                ws = await node.connect(headers=await tenant.headers(client, "staff"))
                await next_frame(ws, "hello")
                assert await presence.is_online(str(tenant.id), str(tenant.users["staff"]))
                while_online = await send(
                    runtime, tenant.id, tenant.users["staff"], category="mention", priority="normal"
                )
                await run_due_now(runtime, tenant, "notification.push")
                skipped = await _status(runtime, tenant, while_online, "push", "skipped")
                await ws.close()

                async def offline() -> bool:
                    return not await presence.is_online(str(tenant.id), str(tenant.users["staff"]))

                await eventually(offline)
                while_away = await send(
                    runtime, tenant.id, tenant.users["staff"], category="mention", priority="normal"
                )
                await run_due_now(runtime, tenant, "notification.push")
                await _status(runtime, tenant, while_away, "push", "sent")
    assert skipped.reason == "online"  # type: ignore[attr-defined]
    assert [push["payload"]["id"] for push in service.received] == [str(while_away)]


async def test_a_critical_push_goes_even_while_the_user_is_online(
    runtime: Runtime,
    tenant: TenantKit,
    client: AsyncTestClient[Litestar],
    node: AppNode,
    presence: Presence,
    notification_worker: WorkerFactory,
) -> None:
    async with running_push_service(FakeBrowser()) as service:
        await _subscribe(runtime, tenant, service)
        with scripted_smtp([]) as (_, port):
            headers = await tenant.headers(client, "staff")
            async with (
                notification_worker(smtp_port=port, presence=presence),
                await node.connect(headers=headers) as ws,
            ):
                await next_frame(ws, "hello")
                alarm = await send(runtime, tenant.id, tenant.users["staff"])  # safety, critical
                await _status(runtime, tenant, alarm, "push", "sent")
    assert [push["payload"]["id"] for push in service.received] == [str(alarm)]


async def test_reading_first_cancels_the_pending_push_and_email(
    runtime: Runtime, tenant: TenantKit, client: AsyncTestClient[Litestar], notification_worker: WorkerFactory
) -> None:
    async with running_push_service(FakeBrowser()) as service:
        await _subscribe(runtime, tenant, service)
        with scripted_smtp([]) as (mailbox, port):
            notification_id = await send(runtime, tenant.id, tenant.users["staff"], category="mention", priority="high")
            staff = await tenant.headers(client, "staff")
            read = await client.patch(f"/api/v1/notifications/{notification_id}", json={"state": "read"}, headers=staff)
            assert read.status_code == 200, read.text
            async with notification_worker(smtp_port=port):
                await run_due_now(runtime, tenant, "notification.push")
                await run_due_now(runtime, tenant, "notification.email")
                await asyncio.sleep(1.0)  # a worker that wrongly sent would have done so by now
    deliveries = (await client.get(f"/api/v1/notifications/{notification_id}/deliveries", headers=staff)).json()
    by_channel = {d["channel"]: d for d in deliveries}
    assert set(by_channel) == {"in_app", "push", "email"}
    assert (by_channel["push"]["status"], by_channel["push"]["reason"]) == ("skipped", "read")
    assert (by_channel["email"]["status"], by_channel["email"]["reason"]) == ("skipped", "read")
    assert by_channel["push"]["log"][-1]["reason"] == "read"
    assert service.received == []
    assert mailbox.messages == []
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        jobs = (await session.execute(select(Job.kind, Job.status, Job.last_error))).all()
    assert {(kind, status, error) for kind, status, error in jobs} == {
        ("notification.push", "done", "cancelled: read"),
        ("notification.email", "done", "cancelled: read"),
    }


async def test_reading_a_pushed_notification_replaces_the_shown_push(
    runtime: Runtime, tenant: TenantKit, client: AsyncTestClient[Litestar], notification_worker: WorkerFactory
) -> None:
    async with running_push_service(FakeBrowser()) as service:
        await _subscribe(runtime, tenant, service)
        with scripted_smtp([]) as (_, port):
            async with notification_worker(smtp_port=port):
                alarm = await send(runtime, tenant.id, tenant.users["staff"])
                await _status(runtime, tenant, alarm, "push", "sent")
                staff = await tenant.headers(client, "staff")
                await client.patch(f"/api/v1/notifications/{alarm}", json={"state": "read"}, headers=staff)

                async def dismissed() -> bool:
                    return len(service.received) == 2

                await eventually(dismissed)
    shown, dismissal = service.received
    assert dismissal["payload"] == {"dismiss": str(alarm), "tag": alarm.hex}
    assert dismissal["topic"] == shown["topic"] == alarm.hex


async def test_quiet_hours_in_the_users_time_zone_delay_all_but_critical(
    runtime: Runtime, tenant: TenantKit, client: AsyncTestClient[Litestar]
) -> None:
    zone = "Asia/Kolkata"  # UTC+05:30: quiet hours read as UTC would not cover now
    staff = await tenant.headers(client, "staff")
    moved = await client.patch("/api/v1/users/me", json={"timezone": zone}, headers=staff)
    assert moved.status_code == 200, moved.text
    local_now = datetime.now(ZoneInfo(zone))
    start, end = local_now - timedelta(hours=1), local_now + timedelta(hours=2)
    await _preferences(client, tenant, quiet_hours={"start": f"{start:%H:%M}", "end": f"{end:%H:%M}"})
    ends_at = end.replace(second=0, microsecond=0).astimezone(UTC)

    quiet = await send(runtime, tenant.id, tenant.users["staff"], category="mention", priority="high")
    critical = await send(runtime, tenant.id, tenant.users["staff"])  # safety, critical

    waiting = await delivery(runtime, tenant.id, quiet, "push")
    assert waiting.status == "queued"
    assert waiting.scheduled_at == ends_at
    assert waiting.log[0]["reason"] == "quiet_hours"
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        run_at = await session.scalar(
            select(Job.run_at).where(Job.kind == "notification.push", Job.idempotency_key.contains(str(quiet)))
        )
    assert run_at == ends_at
    urgent = await delivery(runtime, tenant.id, critical, "push")
    assert urgent.scheduled_at is not None
    assert urgent.scheduled_at < datetime.now(UTC) + timedelta(seconds=5)
    assert urgent.log[0]["overrode"] == ["quiet_hours"]
    shown = (await client.get(f"/api/v1/notifications/{critical}", headers=staff)).json()
    assert shown["overrode"] == ["quiet_hours"]
    assert "overrode" not in (await client.get(f"/api/v1/notifications/{quiet}", headers=staff)).json()


async def test_muting_everything_keeps_only_the_inbox_except_for_critical(
    runtime: Runtime, tenant: TenantKit, client: AsyncTestClient[Litestar]
) -> None:
    await _preferences(client, tenant, muted=True)
    muted = await send(runtime, tenant.id, tenant.users["staff"], category="mention", priority="high")
    critical = await send(runtime, tenant.id, tenant.users["staff"])
    staff = await tenant.headers(client, "staff")
    muted_deliveries = {
        d["channel"]: (d["status"], d.get("reason"))
        for d in (await client.get(f"/api/v1/notifications/{muted}/deliveries", headers=staff)).json()
    }
    assert muted_deliveries == {
        "in_app": ("delivered", None),
        "push": ("skipped", "muted"),
        "email": ("skipped", "muted"),
    }
    critical_deliveries = {
        d["channel"]: d["status"]
        for d in (await client.get(f"/api/v1/notifications/{critical}/deliveries", headers=staff)).json()
    }
    assert critical_deliveries == {"in_app": "delivered", "push": "queued", "email": "queued"}
    assert (await client.get(f"/api/v1/notifications/{critical}", headers=staff)).json()["overrode"] == ["muted"]
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        keys = set((await session.scalars(select(Job.idempotency_key))).all())
    assert all(str(critical) in key for key in keys)
    assert len(keys) == 2


async def test_low_priority_mail_is_batched_into_one_digest(
    runtime: Runtime, tenant: TenantKit, client: AsyncTestClient[Litestar], notification_worker: WorkerFactory
) -> None:
    await _preferences(client, tenant, digest_minutes=1440)
    titles = ["Shelf 4 restocked", "Planogram 12 updated", "Cooler 3 serviced"]
    ids = [
        await send(runtime, tenant.id, tenant.users["staff"], category="task", priority="low", title=title)
        for title in titles
    ]
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        kinds = (await session.execute(text("SELECT kind, count(*) FROM job GROUP BY kind"))).all()
    assert dict(kinds) == {"notification.push": 3, "notification.digest": 1}
    with scripted_smtp([]) as (mailbox, port):
        async with notification_worker(smtp_port=port):
            await run_due_now(runtime, tenant, "notification.digest")
            for notification_id in ids:
                await _status(runtime, tenant, notification_id, "email", "sent")
    [digest] = mailbox.messages
    assert digest["Subject"] == "3 new notifications"
    text_part = digest.get_payload()[0].get_payload(decode=True).decode()  # type: ignore[index, union-attr]
    assert all(title in text_part for title in titles)


async def test_an_email_to_an_invalid_stored_address_is_skipped_without_a_send(
    runtime: Runtime, tenant: TenantKit, notification_worker: WorkerFactory
) -> None:
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        await session.execute(
            update(User).where(User.id == tenant.users["staff"]).values(email="staff at example\r\nBcc: x@y.example")
        )
    with scripted_smtp([]) as (mailbox, port):
        async with notification_worker(smtp_port=port):
            alarm = await send(runtime, tenant.id, tenant.users["staff"])
            row = await _status(runtime, tenant, alarm, "email", "skipped")
    assert row.reason == "invalid_address"  # type: ignore[attr-defined]
    assert mailbox.rcpt_attempts == 0
