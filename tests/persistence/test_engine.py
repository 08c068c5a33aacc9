"""The engine's pool: a connection is pinged at checkout only after sitting idle, and a dead idle one
is replaced before anyone uses it."""

from __future__ import annotations

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.dialects.postgresql.asyncpg import AsyncAdapt_asyncpg_connection
from sqlalchemy.exc import DBAPIError

from persistence.backup import libpq_url
from persistence.engine import Database, app_role_url


async def _database(database_url: str, *, ping_idle_after: float) -> Database:
    return Database(url=app_role_url(database_url), pool_size=1, ping_idle_after=ping_idle_after)


@pytest.fixture
def pings(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the driver-level pings (each is three round trips with asyncpg)."""
    counted: list[int] = []
    real_ping = AsyncAdapt_asyncpg_connection.ping

    def counting_ping(self: AsyncAdapt_asyncpg_connection) -> None:
        counted.append(1)
        real_ping(self)

    monkeypatch.setattr(AsyncAdapt_asyncpg_connection, "ping", counting_ping)
    return counted


async def _backend_pid(database: Database) -> int:
    async with database.transaction() as session:
        pid: int = (await session.execute(text("SELECT pg_backend_pid()"))).scalar_one()
    return pid


async def _terminate(database_url: str, pid: int) -> None:
    owner = await asyncpg.connect(libpq_url(database_url))
    try:
        await owner.execute("SELECT pg_terminate_backend($1)", pid)
    finally:
        await owner.close()


async def test_a_connection_used_moments_ago_is_handed_out_without_a_ping(database_url, pings) -> None:
    database = await _database(database_url, ping_idle_after=60)
    try:
        for _ in range(3):
            await _backend_pid(database)
    finally:
        await database.dispose()

    assert pings == []


async def test_a_connection_that_died_while_idle_is_replaced_before_use(database_url, pings) -> None:
    database = await _database(database_url, ping_idle_after=0)
    try:
        first = await _backend_pid(database)
        await _terminate(database_url, first)

        second = await _backend_pid(database)
    finally:
        await database.dispose()

    assert second != first
    assert pings


async def test_without_the_idle_ping_a_dead_connection_fails_one_transaction_then_the_pool_recovers(
    database_url, pings
) -> None:
    database = await _database(database_url, ping_idle_after=60)
    try:
        first = await _backend_pid(database)
        await _terminate(database_url, first)

        with pytest.raises(DBAPIError):
            await _backend_pid(database)
        second = await _backend_pid(database)
    finally:
        await database.dispose()

    assert second != first
