"""The senders' guarantees not covered elsewhere: STARTTLS when required, mail in the user's language,
non-ASCII text, one VAPID key for good, and a worker that gives back what it holds when it stops."""

from __future__ import annotations

import asyncio
import email.header
import secrets
from uuid import UUID

import aiosmtplib
import pytest
from sqlalchemy import select, update

from api.runtime import Runtime
from delivery.email import EmailSender
from delivery.vapid import load_vapid, public_key_of
from delivery.worker import Batched, Worker
from persistence.jobs import ClaimedJob, enqueue
from persistence.models import Job, User
from tests.delivery.arrange import delivery, send
from tests.delivery.conftest import WorkerFactory
from tests.delivery.smtp_scripts import scripted_smtp
from tests.kit import TenantKit, eventually


async def test_starttls_required_refuses_a_server_without_it_and_sends_nothing() -> None:
    with scripted_smtp([]) as (mailbox, port):
        mailer = EmailSender(smtp_url=f"smtp+starttls://127.0.0.1:{port}", sender="fieldhub <noreply@fieldhub.test>")
        assert mailer.starttls_required
        with pytest.raises(aiosmtplib.SMTPException):
            await mailer.send(to="ana@example.com", subject="Hello", body="In clear text?")
        await mailer.close()
    assert mailbox.messages == []


async def test_mail_is_written_in_the_users_language_and_keeps_non_ascii_text(
    runtime: Runtime, tenant: TenantKit, notification_worker: WorkerFactory
) -> None:
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        await session.execute(update(User).where(User.id == tenant.users["staff"]).values(locale="fr-FR"))
    title = "Rayon 4 : sol glissant — à nettoyer"
    with scripted_smtp([]) as (mailbox, port):
        async with notification_worker(smtp_port=port):
            notification_id = await send(
                runtime, tenant.id, tenant.users["staff"], category="mention", priority="high", title=title
            )
            await _make_due(runtime, tenant, notification_id)

            async def mailed() -> bool:
                return (await delivery(runtime, tenant.id, notification_id, "email")).status == "sent"

            await eventually(mailed)
    [message] = mailbox.messages
    assert str(email.header.make_header(email.header.decode_header(message["Subject"]))) == title
    text = message.get_payload()[0].get_payload(decode=True).decode()  # type: ignore[index, union-attr]
    assert title in text
    assert "Ouvrir" in text  # the French template


async def _make_due(runtime: Runtime, tenant: TenantKit, notification_id: UUID) -> None:
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        await session.execute(
            update(Job)
            .where(Job.kind == "notification.email", Job.idempotency_key.contains(str(notification_id)))
            .values(run_at=Job.created_at)
        )


async def test_the_vapid_key_is_generated_once_and_kept(runtime: Runtime) -> None:
    secret = runtime.settings.resolved_secret_key()
    async with runtime.db.transaction() as session:
        first = public_key_of(await load_vapid(session, secret=secret))
    async with runtime.db.transaction() as session:
        again = public_key_of(await load_vapid(session, secret=secret))
    assert first == again


async def test_a_stopping_worker_gives_back_the_jobs_it_still_holds(runtime: Runtime, tenant: TenantKit) -> None:
    kind = f"test.slow.{secrets.token_hex(3)}"
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        for n in range(3):
            await enqueue(session, tenant_id=tenant.id, kind=kind, payload={"n": n})
    started = asyncio.Event()

    async def never_done(jobs: list[ClaimedJob]) -> set[UUID]:
        started.set()
        await asyncio.sleep(3600)
        return set()

    worker = Worker(db=runtime.db, handlers={kind: Batched(never_done)}, grace_seconds=0.2, poll_seconds=0.2)
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    await asyncio.wait_for(started.wait(), 15)
    stop.set()
    await asyncio.wait_for(task, 15)
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        jobs = (await session.execute(select(Job.status, Job.attempts, Job.locked_until).where(Job.kind == kind))).all()
    assert [(status, attempts, locked) for status, attempts, locked in jobs] == [("queued", 0, None)] * 3
