"""The process's shared resources (database, Redis, mailer), opened in the app's lifespan."""

from __future__ import annotations

from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

import msgspec

from api.auth.principal_cache import PrincipalCache
from api.auth.tokens import TokenKeys
from api.reads import RecentWrites, build_reads
from delivery.email import EmailSender
from hub.redis_client import RedisClient, redis_client
from persistence.engine import Database, app_role_url

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Awaitable, Callable
    from uuid import UUID

    from api.settings import Settings
    from channels.writer import SendWriter
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
        self.db = Database(
            url=settings.database_app_url or app_role_url(database_url),
            pool_size=settings.database_pool_size,
            pool_timeout=settings.database_pool_timeout_seconds,
        )
        self.redis: RedisClient = redis_client(redis_url, cluster=settings.redis_cluster)
        self.reads = build_reads(settings, self.db)
        """Where history, search and reports read: the replica while it is fresh, else ``db``."""
        self.recent_writes = RecentWrites(redis=self.redis, reads=self.reads)
        self.mailer = EmailSender(smtp_url=settings.smtp_url, sender=settings.mail_from)
        self.keys = TokenKeys(secret=settings.resolved_secret_key())
        self.principals = PrincipalCache(ttl=settings.auth_cache_seconds)
        """Sessions resolved lately, so most requests authenticate without a database round trip."""
        self.principals.watch(self.db.engine.sync_engine)
        # Called with the ids of sessions just revoked (the hub closes their sockets on every node).
        self.session_listeners: list[Callable[[list[UUID]], Awaitable[None]]] = []
        self.hub: Hub | None = None
        """The node's hub, in a serving process (``None`` in the CLI's and tests' runtimes)."""
        self.chat_sends: SendWriter | None = None
        """Chat's group-commit writer of sends, in a serving process (shared by WebSocket and HTTP)."""

    async def close(self) -> None:
        await self.redis.aclose()
        await self.reads.dispose()
        await self.db.dispose()

    @classmethod
    @asynccontextmanager
    async def open(cls, settings: Settings) -> AsyncIterator[Runtime]:
        runtime = cls(settings=settings)
        try:
            yield runtime
        finally:
            await runtime.close()
