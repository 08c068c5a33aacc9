"""Build and run the delivery worker from settings-like values: what ``fieldhub worker`` starts."""

from __future__ import annotations

import asyncio
import os
from typing import TYPE_CHECKING

import redis.asyncio as aioredis

from delivery.email import EmailSender
from delivery.escalation import Escalation
from delivery.jobs import job_handlers
from delivery.push import PushSender
from delivery.vapid import load_vapid
from delivery.worker import Worker
from hub.config import HubConfig
from hub.presence import Presence

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Mapping

    from persistence.engine import Database
    from persistence.jobs import ClaimedJob


async def run_delivery_worker(
    *,
    db: Database,
    stop: asyncio.Event,
    redis_url: str | None,
    smtp_url: str | None,
    mail_from: str,
    secret: str,
    public_url: str,
    vapid_subject: str,
    vapid_private_key: str | None = None,
    concurrency: int = 8,
    extra_handlers: Mapping[str, Callable[[ClaimedJob], Awaitable[None]]] | None = None,
) -> None:
    """Run every delivery job kind (and ``extra_handlers``, other packages' jobs) with ``concurrency``
    senders until ``stop`` is set, then wind down."""
    # One SMTP connection per sender, up to 32: each message is four round trips on its connection.
    mailer = EmailSender(smtp_url=smtp_url, sender=mail_from, pool_size=max(1, min(concurrency, 32)))
    async with db.transaction() as session:
        vapid = await load_vapid(session, secret=secret, configured_private_key=vapid_private_key)
    push = PushSender(vapid=vapid, subject=vapid_subject)
    redis = aioredis.Redis.from_url(redis_url) if redis_url else None
    presence = Presence(redis=redis, node_id=f"worker-{os.getpid()}", config=HubConfig()) if redis else None
    escalation = Escalation(db=db, mailer=mailer, push=push, presence=presence, secret=secret, public_url=public_url)
    handlers = {**job_handlers(mailer=mailer, escalation=escalation), **(extra_handlers or {})}
    worker = Worker(db=db, handlers=handlers, concurrency=concurrency)
    try:
        await worker.run(stop)
    finally:
        await push.close()
        await mailer.close()
        if redis is not None:
            await redis.aclose()
