"""Build and run the delivery worker from settings-like values: what ``fieldhub worker`` starts."""

from __future__ import annotations

import asyncio
import os
from typing import TYPE_CHECKING

from delivery.email import EmailSender
from delivery.escalation import Escalation
from delivery.jobs import job_handlers
from delivery.push import PushSender
from delivery.relays import TenantRelays
from delivery.vapid import load_vapid
from delivery.worker import Worker
from hub.config import HubConfig
from hub.heap import freeze_startup_heap
from hub.presence import Presence
from hub.redis_client import redis_client
from persistence.encryption import Keyring
from persistence.engine import Database

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Mapping

    from delivery.worker import JobScope
    from persistence.jobs import ClaimedJob


BATCH = 32
"""Jobs claimed at once: a batch of one kind and tenant is read in one query and recorded in a few."""


async def run_delivery_worker(
    *,
    db: Database,
    stop: asyncio.Event,
    redis_url: str | None,
    redis_cluster: bool = False,
    smtp_url: str | None,
    mail_from: str,
    secret: str,
    public_url: str,
    vapid_subject: str,
    vapid_private_key: str | None = None,
    encryption_key: str | None = None,
    mail_relay_private_hosts: bool = False,
    concurrency: int = 8,
    extra_handlers: Mapping[str, Callable[[ClaimedJob], Awaitable[None]]] | None = None,
    job_scope: JobScope | None = None,
) -> None:
    """Run every delivery job kind (and ``extra_handlers``, other packages' jobs) with ``concurrency``
    senders until ``stop`` is set, then wind down; ``job_scope`` wraps each run of jobs (tracing)."""
    # One SMTP connection per sender, up to 32: each message is four round trips on its connection.
    mailer = EmailSender(smtp_url=smtp_url, sender=mail_from, pool_size=max(1, min(concurrency, 32)))
    async with db.transaction() as session:
        vapid = await load_vapid(
            session, secret=secret, configured_private_key=vapid_private_key, encryption_key=encryption_key
        )
    push = PushSender(vapid=vapid, subject=vapid_subject)
    redis = redis_client(redis_url, cluster=redis_cluster) if redis_url else None
    presence = Presence(redis=redis, node_id=f"worker-{os.getpid()}", config=HubConfig()) if redis else None
    # The senders' own pool, sized to them: the LISTEN connection, a claim, one-job handlers, and for
    # each batch in flight the connection it holds from its read to its last record (plus the next
    # batch's, starting while a slow one ends). Waiting for a connection would keep sent mail off the
    # record longer, and an overflow connection costs a handshake and a login every time it opens.
    senders_db = Database(
        url=db.engine.url.render_as_string(hide_password=False), pool_size=4 + 2 * max(1, concurrency // BATCH)
    )
    senders_db.session_info.update(db.session_info)
    # Tenants with a mail relay of their own send through it; the others through ``mailer``.
    keyring = Keyring.from_settings(encryption_key=encryption_key, secret=secret)
    relays = TenantRelays(keyring=keyring, default=mailer, db=senders_db, private_hosts=mail_relay_private_hosts)
    escalation = Escalation(
        db=senders_db, mailer=mailer, push=push, presence=presence, secret=secret, public_url=public_url, relays=relays
    )
    handlers = {**job_handlers(mailer=mailer, escalation=escalation, relays=relays), **(extra_handlers or {})}
    worker = Worker(db=senders_db, handlers=handlers, concurrency=concurrency, batch=BATCH, job_scope=job_scope)
    # Full collections walking the startup heap had cost about 13 % of a worker's CPU (bench.delivery).
    freeze_startup_heap()
    try:
        await worker.run(stop)
    finally:
        await push.close()
        await mailer.close()
        await relays.close()
        if redis is not None:
            await redis.aclose()
        await senders_db.dispose()
