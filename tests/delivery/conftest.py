"""Delivery test fixtures: a notification worker wired to a given SMTP server and a local push service."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import pytest

from api.runtime import Runtime
from delivery.email import EmailSender
from delivery.escalation import Escalation
from delivery.jobs import job_handlers
from delivery.push import PushSender
from delivery.vapid import load_vapid
from delivery.worker import Worker
from tests.delivery.arrange import set_aside_other_tenants_jobs
from tests.kit import TenantKit

WorkerFactory = Callable[..., "contextlib.AbstractAsyncContextManager[Worker]"]


@pytest.fixture
def notification_worker(runtime: Runtime, tenant: TenantKit) -> WorkerFactory:
    """Start a worker running the notification jobs, mailing to ``smtp_port``, until the block ends.

    Other tenants' waiting notification jobs are set aside first: only this test's reach its servers.
    """

    @asynccontextmanager
    async def start(*, smtp_port: int, presence: object = None) -> AsyncIterator[Worker]:
        await set_aside_other_tenants_jobs(runtime.settings.database_url or "", tenant.id)
        mailer = EmailSender(smtp_url=f"smtp://127.0.0.1:{smtp_port}", sender="fieldhub <noreply@fieldhub.test>")
        async with runtime.db.transaction() as session:
            vapid = await load_vapid(session, secret=runtime.settings.resolved_secret_key())
        push = PushSender(vapid=vapid, subject="mailto:ops@fieldhub.test", timeout=5.0)
        escalation = Escalation(
            db=runtime.db,
            mailer=mailer,
            push=push,
            presence=presence,  # type: ignore[arg-type]
            secret=runtime.settings.resolved_secret_key(),
            public_url="https://fieldhub.test",
        )
        handlers = job_handlers(mailer=mailer, escalation=escalation)
        del handlers["email.send"]  # the session-wide worker owns plain mail
        worker = Worker(db=runtime.db, handlers=handlers, poll_seconds=0.2, concurrency=4)
        stop = asyncio.Event()
        task = asyncio.create_task(worker.run(stop))
        try:
            yield worker
        finally:
            stop.set()
            await asyncio.wait_for(task, 20)
            await push.close()
            await mailer.close()

    return start
