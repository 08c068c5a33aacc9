"""Notification email through a real SMTP server: multipart, Message-ID, one-click unsubscribe, 4xx retry, 5xx bounce."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from uuid import UUID

from sqlalchemy import select

from api.runtime import Runtime
from delivery.unsubscribe import verify_unsubscribe
from persistence.models import EmailSuppression, NotificationDelivery
from tests.delivery.arrange import delivery, send
from tests.delivery.conftest import WorkerFactory
from tests.delivery.smtp_scripts import ScriptedMailbox, scripted_smtp
from tests.kit import TenantKit, eventually


@asynccontextmanager
async def _mail_server(worker: WorkerFactory, replies: list[str]) -> AsyncIterator[ScriptedMailbox]:
    """An SMTP server answering RCPT TO with ``replies`` in order (then 250), and a worker mailing to it."""
    with scripted_smtp(replies) as (mailbox, port):
        async with worker(smtp_port=port):
            yield mailbox


async def _email_reaches(
    runtime: Runtime, tenant: TenantKit, notification_id: UUID, wanted: str
) -> NotificationDelivery:
    """Wait until the notification's email delivery has status ``wanted``; that delivery."""

    async def check() -> NotificationDelivery | None:
        row = await delivery(runtime, tenant.id, notification_id, "email")
        return row if row.status == wanted else None

    return await eventually(check)


async def test_a_critical_notification_is_mailed_as_text_and_html(
    runtime: Runtime, tenant: TenantKit, notification_worker: WorkerFactory
) -> None:
    async with _mail_server(notification_worker, []) as mailbox:
        notification_id = await send(runtime, tenant.id, tenant.users["staff"])
        await _email_reaches(runtime, tenant, notification_id, "sent")
    message = mailbox.messages[0]
    assert message["To"] == tenant.email("staff")
    assert message["Subject"] == "Wet floor in aisle 4"
    assert message.get_content_type() == "multipart/alternative"
    kinds = [part.get_content_type() for part in message.get_payload()]  # type: ignore[union-attr]
    assert kinds == ["text/plain", "text/html"]
    assert message["Message-ID"].endswith("@fieldhub.test>")


async def test_a_mail_carries_a_signed_one_click_unsubscribe_link(
    runtime: Runtime, tenant: TenantKit, notification_worker: WorkerFactory
) -> None:
    async with _mail_server(notification_worker, []) as mailbox:
        notification_id = await send(runtime, tenant.id, tenant.users["staff"], category="report", priority="normal")
        # report mail waits 10 minutes for the in-app copy to be read: run it now.
        await _run_due_now(runtime, tenant)
        await _email_reaches(runtime, tenant, notification_id, "sent")
    message = mailbox.messages[0]
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    url = message["List-Unsubscribe"].strip("<>")
    target = verify_unsubscribe(runtime.settings.resolved_secret_key(), url.split("token=")[1])
    assert target is not None
    assert (target.user_id, target.category) == (tenant.users["staff"], "report")


async def test_a_4xx_refusal_is_retried_until_accepted_with_the_same_message_id(
    runtime: Runtime, tenant: TenantKit, notification_worker: WorkerFactory
) -> None:
    async with _mail_server(notification_worker, ["451 4.3.0 try again later"]) as mailbox:
        notification_id = await send(runtime, tenant.id, tenant.users["staff"])
        await _email_reaches(runtime, tenant, notification_id, "failed")
        await _run_due_now(runtime, tenant)
        row = await _email_reaches(runtime, tenant, notification_id, "sent")
    assert mailbox.rcpt_attempts == 2
    assert len(mailbox.messages) == 1
    assert [entry["status"] for entry in row.log][-2:] == ["failed", "sent"]


async def test_a_5xx_refusal_bounces_the_address_and_stops(
    runtime: Runtime, tenant: TenantKit, notification_worker: WorkerFactory
) -> None:
    async with _mail_server(notification_worker, ["550 5.1.1 no such mailbox"]) as mailbox:
        notification_id = await send(runtime, tenant.id, tenant.users["staff"])
        row = await _email_reaches(runtime, tenant, notification_id, "bounced")
        second = await send(runtime, tenant.id, tenant.users["staff"])
        await _email_reaches(runtime, tenant, second, "skipped")
    assert mailbox.rcpt_attempts == 1
    assert row.log[-1]["smtp_code"] == 550
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        suppressed = await session.scalar(select(EmailSuppression.address))
    assert suppressed == tenant.email("staff")


async def _run_due_now(runtime: Runtime, tenant: TenantKit) -> None:
    """Make the tenant's waiting jobs due at once (backoff and escalation delays are minutes long)."""
    from sqlalchemy import text

    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        await session.execute(text("UPDATE job SET run_at = now() WHERE status = 'queued'"))
