"""A notification worker in the test's process, mailing to a given SMTP server and pushing with the tenant's
VAPID key, until the block ends."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from delivery.email import EmailSender
from delivery.escalation import Escalation
from delivery.jobs import job_handlers
from delivery.push import PushSender
from delivery.relays import TenantRelays
from delivery.vapid import load_vapid
from delivery.worker import JobScope, Worker
from tests.delivery.arrange import set_aside_other_tenants_jobs

if TYPE_CHECKING:
    from api.runtime import Runtime
    from tests.kit import TenantKit


@asynccontextmanager
async def running_worker(
    runtime: Runtime,
    tenant: TenantKit,
    *,
    smtp_port: int,
    presence: object = None,
    without: Iterable[str] = (),
    concurrency: int | None = None,
    job_scope: JobScope | None = None,
) -> AsyncIterator[Worker]:
    """Run every delivery job kind but those ``without``; other tenants' waiting jobs are set aside
    first, so only this test's reach its servers."""
    await set_aside_other_tenants_jobs(runtime.settings.database_url or "", tenant.id)
    secret = runtime.settings.resolved_secret_key()
    mailer = EmailSender(smtp_url=f"smtp://127.0.0.1:{smtp_port}", sender="fieldhub <noreply@fieldhub.test>")
    async with runtime.db.transaction() as session:
        vapid = await load_vapid(session, secret=secret)
    push = PushSender(vapid=vapid, subject="mailto:ops@fieldhub.test", timeout=5.0)
    # As ``fieldhub worker``: a tenant with a mail relay of its own mails through it.
    relays = TenantRelays(
        keyring=runtime.settings.keyring(),
        default=mailer,
        db=runtime.db,
        private_hosts=runtime.settings.mail_relay_private_hosts,
    )
    escalation = Escalation(
        db=runtime.db,
        mailer=mailer,
        push=push,
        presence=presence,  # type: ignore[arg-type]
        secret=secret,
        public_url="https://fieldhub.test",
        relays=relays,
    )
    handlers = job_handlers(mailer=mailer, escalation=escalation, relays=relays)
    for kind in without:
        del handlers[kind]
    options = {} if concurrency is None else {"concurrency": concurrency}
    worker = Worker(db=runtime.db, handlers=handlers, poll_seconds=0.2, job_scope=job_scope, **options)
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    try:
        yield worker
    finally:
        stop.set()
        await asyncio.wait_for(task, 20)
        await push.close()
        await mailer.close()
        await relays.close()
