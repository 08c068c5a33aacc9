"""Delivery records over HTTP: a notification's deliveries, the admin's failures and the retry of a dead-lettered one."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from uuid import UUID

from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import select, update

from api.runtime import Runtime
from delivery.email import EmailSender
from delivery.escalation import Escalation
from delivery.jobs import job_handlers
from delivery.worker import Worker
from persistence.models import Job, NotificationDelivery
from tests.delivery.arrange import delivery, send, set_aside_other_tenants_jobs
from tests.delivery.smtp_scripts import ScriptedMailbox, scripted_smtp
from tests.kit import TenantKit, eventually

FAILURES = "/api/v1/notifications/deliveries/failures"


@asynccontextmanager
async def _worker(runtime: Runtime, tenant: TenantKit, port: int) -> AsyncIterator[None]:
    """A worker sending notification email to the SMTP server on ``port`` until the block ends
    (other tenants' waiting jobs set aside, so only this test's mail reaches it)."""
    await set_aside_other_tenants_jobs(runtime.settings.database_url or "", tenant.id)
    mailer = EmailSender(smtp_url=f"smtp://127.0.0.1:{port}", sender="fieldhub <noreply@fieldhub.test>")
    escalation = Escalation(
        db=runtime.db,
        mailer=mailer,
        push=None,
        presence=None,
        secret=runtime.settings.resolved_secret_key(),
        public_url="https://fieldhub.test",
    )
    handlers = job_handlers(mailer=mailer, escalation=escalation)
    del handlers["email.send"]
    worker = Worker(db=runtime.db, handlers=handlers, poll_seconds=0.2)
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    try:
        yield
    finally:
        stop.set()
        await asyncio.wait_for(task, 20)
        await mailer.close()


async def _status(runtime: Runtime, tenant: TenantKit, notification_id: UUID, wanted: str) -> None:
    async def check() -> bool:
        return (await delivery(runtime, tenant.id, notification_id, "email")).status == wanted

    await eventually(check)


async def test_the_recipient_sees_each_channel_and_attempt_and_other_users_do_not(
    client: AsyncTestClient[Litestar], runtime: Runtime, tenant: TenantKit
) -> None:
    notification_id = await send(runtime, tenant.id, tenant.users["staff"], category="mention", priority="high")
    path = f"/api/v1/notifications/{notification_id}/deliveries"
    mine = await client.get(path, headers=await tenant.headers(client, "staff"))
    assert mine.status_code == 200
    rows: dict[str, dict[str, Any]] = {d["channel"]: d for d in mine.json()}
    assert {channel: d["status"] for channel, d in rows.items()} == {
        "email": "queued",
        "in_app": "delivered",
        "push": "queued",
    }
    assert rows["email"]["target"] == tenant.email("staff")
    assert rows["push"]["scheduled_at"] > rows["push"]["log"][0]["at"]  # waits the category's delay
    assert [entry["status"] for entry in rows["push"]["log"]] == ["queued"]
    assert (await client.get(path, headers=await tenant.headers(client, "supervisor"))).status_code == 404
    assert (await client.get(path, headers=await tenant.headers(client, "admin"))).status_code == 200


async def test_a_dead_lettered_email_is_listed_for_admins_and_can_be_retried(
    client: AsyncTestClient[Litestar], runtime: Runtime, tenant: TenantKit
) -> None:
    notification_id = await send(runtime, tenant.id, tenant.users["staff"])  # safety: mailed at once
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        await session.execute(update(Job).where(Job.kind == "notification.email").values(max_attempts=1))
    admin = await tenant.headers(client, "admin")
    mailbox: ScriptedMailbox
    with scripted_smtp(["451 4.3.0 mailbox busy"]) as (mailbox, port):
        async with _worker(runtime, tenant, port):
            await _status(runtime, tenant, notification_id, "failed")
            async with runtime.db.transaction(tenant_id=tenant.id) as session:
                dead = (
                    await session.execute(select(Job.status, Job.last_error).where(Job.kind == "notification.email"))
                ).one()
            assert dead.status == "dead"
            assert "451" in dead.last_error

            failures = (await client.get(FAILURES, headers=admin)).json()
            [failed] = [f for f in failures["items"] if f["notification_id"] == str(notification_id)]
            assert (failed["channel"], failed["status"], failed["attempts"]) == ("email", "failed", 1)
            assert "451" in failed["reason"]
            assert failed["log"][-1]["status"] == "failed"

            retried = await client.post(f"/api/v1/notifications/deliveries/{failed['id']}/retry", headers=admin)
            assert retried.status_code == 202, retried.text
            assert retried.json()["status"] == "queued"
            await _status(runtime, tenant, notification_id, "sent")
    assert len(mailbox.messages) == 1
    row = await delivery(runtime, tenant.id, notification_id, "email")
    assert [entry["status"] for entry in row.log][-3:] == ["failed", "queued", "sent"]
    assert row.log[-2]["retried_by"] == str(tenant.users["admin"])
    remaining = (await client.get(FAILURES, headers=admin)).json()["items"]
    assert str(notification_id) not in {f["notification_id"] for f in remaining}


async def test_only_failed_push_or_email_deliveries_can_be_retried(
    client: AsyncTestClient[Litestar], runtime: Runtime, tenant: TenantKit
) -> None:
    notification_id = await send(runtime, tenant.id, tenant.users["staff"], category="mention", priority="high")
    admin = await tenant.headers(client, "admin")
    queued = await delivery(runtime, tenant.id, notification_id, "email")
    refused = await client.post(f"/api/v1/notifications/deliveries/{queued.id}/retry", headers=admin)
    assert (refused.status_code, refused.json()["error"]["code"]) == (409, "not_retryable")
    unknown = await client.post(
        "/api/v1/notifications/deliveries/01a00000-0000-7000-8000-000000000000/retry", headers=admin
    )
    assert unknown.status_code == 404


async def test_failures_and_retries_are_for_notification_admins_only(
    client: AsyncTestClient[Litestar], tenant: TenantKit
) -> None:
    staff = await tenant.headers(client, "staff")
    assert (await client.get(FAILURES, headers=staff)).status_code == 403
    retry = await client.post(
        "/api/v1/notifications/deliveries/01a00000-0000-7000-8000-000000000000/retry", headers=staff
    )
    assert retry.status_code == 403


async def test_another_tenants_failures_are_not_listed(
    client: AsyncTestClient[Litestar], runtime: Runtime, tenant: TenantKit, other_tenant: TenantKit
) -> None:
    notification_id = await send(runtime, tenant.id, tenant.users["staff"], category="mention", priority="high")
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        await session.execute(
            update(NotificationDelivery)
            .where(NotificationDelivery.notification_id == notification_id, NotificationDelivery.channel == "email")
            .values(status="failed", reason="test")
        )
    assert (await client.get(FAILURES, headers=await other_tenant.headers(client))).json()["total"] == 0
    assert (await client.get(FAILURES, headers=await tenant.headers(client))).json()["total"] == 1
