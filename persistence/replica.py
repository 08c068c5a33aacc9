"""Read routing: reads that may be a little stale (history, search, reports) go to a streaming replica
while its replay lag is under a bound, to the primary otherwise. Writes never go to the replica."""

from __future__ import annotations

import asyncio
import logging
import math
import time
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Literal, Protocol

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from persistence.engine import Database

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Awaitable, Callable
    from datetime import timedelta
    from uuid import UUID

    from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

__all__ = ["Reads", "ReplicaLag", "ReplicaObserver", "Served", "Why"]

log = logging.getLogger("fieldhub.db.replica")

Served = Literal["primary", "replica"]
Why = Literal["fresh", "no_replica", "lagging", "unreachable", "recent_write"]
"""Why a read went where it went: ``fresh`` is the only reason the replica serves."""

PROBE_TTL_S = 0.5
"""How long one lag measurement is trusted: two short queries per process per half second at most."""
PROBE_TIMEOUT_S = 1.0
RETRY_AFTER_S = 5.0
"""After a failed probe the replica is left alone this long, so a dead host costs one timeout per 5 s."""

_PRIMARY_POSITION = text("SELECT pg_current_wal_lsn(), clock_timestamp()")
_REPLICA_POSITION = text(
    "SELECT pg_is_in_recovery(), pg_last_wal_replay_lsn() >= :lsn, pg_last_xact_replay_timestamp()"
)


class ReplicaObserver(Protocol):
    """Where the router reports (the metrics); persistence knows no metrics library."""

    def lag_measured(self, seconds: float | None) -> None:
        """A new measurement: the lag in seconds, or ``None`` when the replica could not be asked."""

    def read_served(self, served: Served, why: Why) -> None:
        """One read transaction began on ``served``."""


class _Unobserved:
    def lag_measured(self, seconds: float | None) -> None:
        pass

    def read_served(self, served: Served, why: Why) -> None:
        pass


class ReplicaLag:
    """How far the replica's replayed state is behind the primary, measured at most once per ``ttl``.

    Why LSNs and not ``now() - pg_last_xact_replay_timestamp()`` on the replica alone: that figure
    grows while the primary is idle (no new commit to replay), so an idle system would look minutes
    behind and every read would leave a perfectly current replica. Instead the primary's WAL
    position is read first and the replica asked whether it has replayed up to it: if so, the lag
    is zero. Only when it has not is the time of its last replayed commit used, on the primary's
    clock (both timestamps come from the primary, so clock skew between hosts does not count). That
    overstates the lag after a long idle spell until the next commit is replayed (milliseconds),
    which errs towards the primary. A heartbeat table would be as exact but means a write every
    second and a migration; the LSNs are there already.

    Args:
        primary: the primary's engine (the application role may call both functions).
        replica: the replica's engine.
        ttl: seconds a measurement is reused.
        timeout: seconds a measurement may take before the replica counts as unreachable.
    """

    def __init__(
        self,
        *,
        primary: AsyncEngine,
        replica: AsyncEngine,
        observer: ReplicaObserver,
        ttl: float = PROBE_TTL_S,
        timeout: float = PROBE_TIMEOUT_S,
    ) -> None:
        self._primary, self._replica, self.observer = primary, replica, observer
        self._ttl, self._timeout = ttl, timeout
        self._lag: float | None = None
        self._valid_until = 0.0
        self._reachable: bool | None = None
        self._lock = asyncio.Lock()

    async def current(self) -> float | None:
        """The lag in seconds (``math.inf`` when unknown but behind), or ``None`` when the replica is
        unreachable or not a replica. Concurrent callers share one measurement."""
        if time.monotonic() < self._valid_until:
            return self._lag
        async with self._lock:
            if time.monotonic() < self._valid_until:
                return self._lag
            try:
                lag: float | None = await asyncio.wait_for(self._measure(), self._timeout)
            except (SQLAlchemyError, OSError, TimeoutError, ValueError) as exc:
                lag = None
                if self._reachable is not False:  # log the change, not every retry
                    log.warning("read replica unusable, reads go to the primary: %s", exc or type(exc).__name__)
            if lag is not None and self._reachable is False:
                log.info("read replica reachable again, lag %.3f s", lag)
            self._reachable = lag is not None
            self._lag = lag
            self._valid_until = time.monotonic() + (self._ttl if lag is not None else RETRY_AFTER_S)
            self.observer.lag_measured(lag)
            return lag

    def forget(self) -> None:
        """A read found the replica gone: count it unreachable for :data:`RETRY_AFTER_S`, then measure again."""
        self._lag, self._reachable, self._valid_until = None, False, time.monotonic() + RETRY_AFTER_S
        self.observer.lag_measured(None)

    async def _measure(self) -> float:
        async with self._primary.connect() as connection:
            lsn, primary_now = (await connection.execute(_PRIMARY_POSITION)).one()
        async with self._replica.connect() as connection:
            in_recovery, caught_up, replayed_at = (await connection.execute(_REPLICA_POSITION, {"lsn": lsn})).one()
        if not in_recovery:
            # A promoted replica is a primary of its own whose writes the real primary never sees.
            raise ValueError("the replica URL names a server that is not in recovery")
        if caught_up:
            return 0.0
        if replayed_at is None:
            return math.inf  # behind, and nothing replayed since it started: no way to say how far
        behind: timedelta = primary_now - replayed_at
        return max(0.0, behind.total_seconds())


class Reads:
    """Where a read-only unit of work runs: the replica while its lag is under ``max_lag``, the primary
    otherwise or without a replica (then nothing is measured and nothing changes).

    Args:
        primary: the application's database (every write goes there).
        replica: the replica as the same application role, or ``None``.
        max_lag: seconds of replay lag up to which the replica serves.
    """

    def __init__(
        self,
        *,
        primary: Database,
        replica: Database | None = None,
        max_lag: float = 2.0,
        observer: ReplicaObserver | None = None,
        probe_ttl: float = PROBE_TTL_S,
    ) -> None:
        self.primary, self.replica, self.max_lag = primary, replica, max_lag
        self.observer = observer or _Unobserved()
        self.lag = (
            ReplicaLag(primary=primary.engine, replica=replica.engine, observer=self.observer, ttl=probe_ttl)
            if replica is not None
            else None
        )
        self._probe_ttl = probe_ttl

    @property
    def stick_seconds(self) -> float:
        """How long a writer's reads should stay on the primary to see their own write: a replica read
        allowed now reflects the primary as of at most ``max_lag + probe_ttl`` ago; 1 s is margin for
        the write's own commit and acknowledgement."""
        return self.max_lag + self._probe_ttl + 1.0

    async def choose(self, *, recent_write: Callable[[], Awaitable[bool]] | None = None) -> tuple[Database, Why]:
        """The database for the next read and why.

        Args:
            recent_write: asked only when the replica would serve; ``True`` keeps the read on the primary.
        """
        if self.replica is None or self.lag is None:
            return self.primary, "no_replica"
        lag = await self.lag.current()
        if lag is None:
            return self.primary, "unreachable"
        if lag > self.max_lag:
            return self.primary, "lagging"
        if recent_write is not None and await recent_write():
            return self.primary, "recent_write"
        return self.replica, "fresh"

    @asynccontextmanager
    async def transaction(
        self, *, tenant_id: UUID | None, recent_write: Callable[[], Awaitable[bool]] | None = None
    ) -> AsyncIterator[AsyncSession]:
        """A read-only unit of work as ``tenant_id`` (row-level security as on the primary), on the
        replica when it is fresh. A replica that fails to open the transaction is reported and the
        read runs on the primary: a lagging or lost replica is never the user's error."""
        database, why = await self.choose(recent_write=recent_write)
        if database is self.replica and self.lag is not None:
            session = database.session(tenant_id=tenant_id)
            try:
                await session.begin()
                await session.connection()  # opens the connection and applies the tenant now
            except (SQLAlchemyError, OSError) as exc:
                await session.close()
                log.warning("read replica failed to open a transaction, reading from the primary: %s", exc)
                self.lag.forget()
                database, why = self.primary, "unreachable"
            else:
                self.observer.read_served("replica", why)
                async with session:
                    yield session
                    await session.rollback()  # nothing to keep: it only read
                return
        self.observer.read_served("primary", why)
        async with database.transaction(tenant_id=tenant_id) as session:
            yield session

    async def dispose(self) -> None:
        """Close the replica's connections (the primary belongs to its owner)."""
        if self.replica is not None:
            await self.replica.dispose()
