"""The process's shared resources (database, Redis, mailer), opened in the app's lifespan."""

from __future__ import annotations

from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

import msgspec
import redis.asyncio as aioredis

from api.auth.tokens import TokenKeys
from delivery.email import EmailSender
from persistence.engine import Database, app_role_url

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Awaitable, Callable
    from uuid import UUID

    from api.settings import Settings
    from hub import Hub


class Runtime:
    """What every request may need; one per process.

    Args:
        settings: settings whose ``database_url`` and ``redis_url`` are set (embedded ones started).
    """

    def __init__(self, *, settings: Settings) -> None:
        database_url, redis_url = settings.database_url, settings.redis_url
        if database_url is None or redis_url is None:
            raise ValueError("Runtime needs database_url and redis_url; start embedded servers first")
        # Resolved once: an unconfigured key lives in a file, and requests must not read it each time.
        self.settings = settings = msgspec.structs.replace(settings, secret_key=settings.resolved_secret_key())
        self.db = Database(url=settings.database_app_url or app_role_url(database_url))
        self.redis: aioredis.Redis = aioredis.Redis.from_url(redis_url)
        self.mailer = EmailSender(smtp_url=settings.smtp_url, sender=settings.mail_from)
        self.keys = TokenKeys(secret=settings.resolved_secret_key())
        # Called with the ids of sessions just revoked (the hub closes their sockets on every node).
        self.session_listeners: list[Callable[[list[UUID]], Awaitable[None]]] = []
        self.hub: Hub | None = None
        """The node's hub, in a serving process (``None`` in the CLI's and tests' runtimes)."""

    async def close(self) -> None:
        await self.redis.aclose()
        await self.db.dispose()

    @classmethod
    @asynccontextmanager
    async def open(cls, settings: Settings) -> AsyncIterator[Runtime]:
        runtime = cls(settings=settings)
        try:
            yield runtime
        finally:
            await runtime.close()
