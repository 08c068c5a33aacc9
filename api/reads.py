"""Reads that may go to the replica: the process's router, and the marks that keep a user who just
wrote on the primary (read-your-writes)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from redis.exceptions import RedisError
from sqlalchemy.engine import make_url

from api.metrics.replica import PrometheusReplicaObserver
from persistence.engine import Database
from persistence.replica import Reads

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable
    from uuid import UUID

    from api.settings import Settings
    from hub.redis_client import RedisClient

log = logging.getLogger("fieldhub.db.replica")


def build_reads(settings: Settings, primary: Database) -> Reads:
    """The router for ``settings``: with ``database_replica_url``, a second pool on the replica."""
    if settings.database_replica_url is None:
        return Reads(primary=primary)
    url = make_url(settings.database_replica_url)
    return Reads(
        primary=primary,
        replica=Database(url=settings.database_replica_url),
        max_lag=settings.replica_max_lag_ms / 1000,
        observer=PrometheusReplicaObserver(replica=f"{url.host or 'localhost'}:{url.port or 5432}/{url.database}"),
    )


class RecentWrites:
    """Who wrote in the last ``Reads.stick_seconds``, in Redis so every node knows.

    Read-your-writes by a short stay on the primary: after a user's write, their routed reads skip
    the replica until any replica allowed to serve must have replayed that write (see
    ``Reads.stick_seconds``). An LSN token would be exact but means one more query on every write
    and a token carried by every client; the mark costs one Redis ``SET`` per write and one
    ``EXISTS`` per replica read, and only while a replica is configured.
    """

    def __init__(self, *, redis: RedisClient, reads: Reads) -> None:
        self.redis, self.reads = redis, reads

    @staticmethod
    def key(tenant_id: UUID, user_id: UUID) -> str:
        return f"t:{tenant_id}:db:wrote:{user_id}"

    async def mark(self, tenant_id: UUID, user_id: UUID) -> None:
        """Record that the user has just committed a write (nothing without a replica)."""
        if self.reads.replica is None:
            return
        try:
            await self.redis.set(self.key(tenant_id, user_id), b"1", px=int(self.reads.stick_seconds * 1000))
        except RedisError as exc:
            # The write is committed; the worst outcome is one stale page within the lag bound.
            log.warning("could not mark a recent write for read-your-writes: %s", exc)

    def check(self, tenant_id: UUID, user_id: UUID) -> Callable[[], Awaitable[bool]]:
        """The question ``Reads.transaction`` asks only when the replica would serve."""

        async def wrote_recently() -> bool:
            try:
                return bool(await self.redis.exists(self.key(tenant_id, user_id)))
            except RedisError:
                return True  # unknown: the primary is always right

        return wrote_recently
