"""Async engine and session factory: one unit of work per request, as the application's role."""

from __future__ import annotations

import time
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.util import greenlet_spawn

from persistence.audit_link import linking_done
from persistence.prepared import DriverTransaction
from persistence.tenancy import APP_ROLE, TENANT_SETTING, bind_tenant

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from uuid import UUID

    from sqlalchemy.pool import ConnectionPoolEntry, PoolProxiedConnection

__all__ = ["PING_IDLE_AFTER_SECONDS", "Database", "app_role_url", "asyncpg_url"]

PING_IDLE_AFTER_SECONDS = 10.0
"""A pooled connection idle longer than this is pinged before it is handed out."""


def asyncpg_url(url: str) -> str:
    """Normalise any ``postgresql://`` URL to the asyncpg driver."""
    parsed = make_url(url)
    return parsed.set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)


def app_role_url(owner_url: str) -> str:
    """The owner's URL with the application role as user (for trust or peer auth, as embedded)."""
    parsed = make_url(asyncpg_url(owner_url))
    return parsed.set(username=APP_ROLE, password=None).render_as_string(hide_password=False)


class Database:
    """The application's engine and session factory.

    Args:
        url: a PostgreSQL URL for the application role (never the owner in production).
        pool_size: connections kept open per process (as many again may open under load).
        pool_timeout: seconds a transaction waits for a free connection before
            ``sqlalchemy.exc.TimeoutError`` (the API answers ``503 unavailable``).
    """

    def __init__(
        self,
        *,
        url: str,
        pool_size: int = 10,
        pool_timeout: float = 30.0,
        echo: bool = False,
        ping_idle_after: float = PING_IDLE_AFTER_SECONDS,
    ) -> None:
        # Parameters carry message bodies, token hashes and sealed secrets: never in a log line or in
        # an error's text, whatever the log level.
        self.engine: AsyncEngine = create_async_engine(
            asyncpg_url(url),
            pool_size=pool_size,
            max_overflow=pool_size,
            pool_timeout=pool_timeout,
            echo=echo,
            hide_parameters=True,
        )
        _ping_when_idle(self.engine, after=ping_idle_after)
        self.sessionmaker = async_sessionmaker(self.engine, expire_on_commit=False)
        self.session_info: dict[str, Any] = {}
        """Copied into every session's ``info``: how other packages hang per-database hooks (the
        inbox's publisher, say) on this database's sessions only, never on another's."""

    def session(self, *, tenant_id: UUID | None = None) -> AsyncSession:
        """A new session whose transactions run as ``tenant_id`` (none: every tenant row hidden)."""
        session = self.sessionmaker()
        session.info.update(self.session_info)
        bind_tenant(session, tenant_id)
        return session

    @asynccontextmanager
    async def transaction(self, *, tenant_id: UUID | None = None) -> AsyncIterator[AsyncSession]:
        """Yield a session inside one transaction: committed on success, rolled back on error."""
        async with self.session(tenant_id=tenant_id) as session, session.begin():
            yield session

    @asynccontextmanager
    async def driver_transaction(self, *, tenant_id: UUID | None = None) -> AsyncIterator[DriverTransaction]:
        """Yield a transaction as ``tenant_id`` on a pooled connection's driver, for
        :class:`~persistence.prepared.Prepared` statements only: committed on success, rolled back on error."""
        pooled = await self.engine.raw_connection()
        driver: Any = pooled.driver_connection
        transaction = DriverTransaction(driver, engine=self.engine, info=dict(self.session_info))
        ended = False
        try:
            # One round trip for both; the id is a UUID's text (no quoting to get wrong).
            tenant = str(tenant_id) if tenant_id else ""
            await driver.execute(f"BEGIN; SELECT set_config('{TENANT_SETTING}', '{tenant}', true)")
            try:
                yield transaction
                for before in transaction.before_commit:
                    await before()
            except BaseException:
                await driver.execute("ROLLBACK")
                ended = True
                raise
            await driver.execute("COMMIT")
            ended = True
        finally:
            # Checking in may close the connection (an overflow one, or one whose transaction could not be
            # ended, which nobody else may get), and closing awaits: run it where it may.
            await greenlet_spawn(_check_in, pooled, ended)
        for after in transaction.after_commit:
            after()

    async def dispose(self) -> None:
        # Audit entries committed just before shutdown are linked now, not a minute later by the worker.
        await linking_done(self.engine)
        await self.engine.dispose()


def _check_in(pooled: PoolProxiedConnection, ended: bool) -> None:
    if not ended:
        pooled.invalidate()
    pooled.close()


def _ping_when_idle(engine: AsyncEngine, *, after: float) -> None:
    """Ping a connection at checkout only if it sat in the pool longer than ``after`` seconds.

    SQLAlchemy's ``pool_pre_ping`` pings at every checkout, and with asyncpg a ping is three round
    trips (``BEGIN``, ``;``, ``ROLLBACK``): on a busy server, a third of a short request's. A
    connection used moments ago is alive; one that sat idle across a database restart or a
    firewall's idle timeout is what a ping is for. A dead one is replaced before anyone uses it;
    one that dies while in use fails its transaction, and SQLAlchemy then recycles the pool.
    """

    @event.listens_for(engine.sync_engine, "checkin")
    def _idle_from_now(dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkout")
    def _ping_if_idle(dbapi_connection: Any, record: ConnectionPoolEntry, proxy: PoolProxiedConnection) -> None:
        idle_since = record.info.get("idle_since")
        if idle_since is None or time.monotonic() - idle_since <= after:
            return
        try:
            dbapi_connection.ping()
        except Exception as exc:
            # The pool discards this connection and checks out another (a new one if need be).
            raise DisconnectionError("a pooled connection was dead after sitting idle") from exc
