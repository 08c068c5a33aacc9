"""Read routing against a real streaming replica: the lag probe, the fallback to the primary while
replay is paused, the return to the replica, and an unusable replica never failing a read."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from uuid import uuid4

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from persistence.engine import Database
from persistence.replica import Reads, Served, Why
from persistence.tenancy import APP_ROLE, TENANT_SETTING
from tests.kit import eventually
from tests.pgcluster import StreamingPair, free_port


class Recorder:
    """Keeps what the router reports, as the metrics observer would count it."""

    def __init__(self) -> None:
        self.lags: list[float | None] = []
        self.reads: list[tuple[Served, Why]] = []

    def lag_measured(self, seconds: float | None) -> None:
        self.lags.append(seconds)

    def read_served(self, served: Served, why: Why) -> None:
        self.reads.append((served, why))


@pytest.fixture(scope="module")
async def notes(streaming_pair: StreamingPair) -> str:
    """A plain table on the primary the application role may read (it reaches the replica by WAL)."""
    connection = await asyncpg.connect(streaming_pair.primary.dsn())
    try:
        await connection.execute(
            f"CREATE TABLE IF NOT EXISTS replica_notes (note text NOT NULL);GRANT SELECT ON replica_notes TO {APP_ROLE}"
        )
    finally:
        await connection.close()
    return "replica_notes"


async def _note_on_primary(pair: StreamingPair) -> str:
    note = uuid4().hex
    connection = await asyncpg.connect(pair.primary.dsn())
    try:
        await connection.execute("INSERT INTO replica_notes VALUES ($1)", note)
    finally:
        await connection.close()
    return note


async def _on_replica(pair: StreamingPair, sql: str) -> object:
    connection = await asyncpg.connect(pair.replica.dsn())
    try:
        return await connection.fetchval(sql)
    finally:
        await connection.close()


@asynccontextmanager
async def _router(
    pair: StreamingPair, *, replica_url: str | None = None, max_lag: float = 1.0, probe_ttl: float = 0.05
) -> AsyncIterator[Reads]:
    """A router over the pair as the application role, reporting to a :class:`Recorder`; closed after use."""
    router = Reads(
        primary=Database(url=pair.primary.url(APP_ROLE), pool_size=2),
        replica=Database(url=replica_url or pair.replica.url(APP_ROLE), pool_size=2),
        max_lag=max_lag,
        observer=Recorder(),
        probe_ttl=probe_ttl,
    )
    try:
        yield router
    finally:
        await router.dispose()
        await router.primary.dispose()


@pytest.fixture
async def reads(streaming_pair: StreamingPair, notes: str) -> AsyncIterator[Reads]:
    async with _router(streaming_pair) as router:
        yield router


@pytest.fixture
async def lenient_reads(streaming_pair: StreamingPair, notes: str) -> AsyncIterator[Reads]:
    """A router whose bound (an hour) a paused replica stays under: it keeps serving stale reads."""
    async with _router(streaming_pair, max_lag=3600) as router:
        yield router


async def _read(router: Reads) -> tuple[int, set[str], str]:
    """One routed read: the port of the server that served it, the notes it saw, and its tenant setting."""
    tenant = uuid4()
    async with router.transaction(tenant_id=tenant) as session:
        port, seen, setting = await _facts(session)
    assert setting == str(tenant)
    return port, seen, setting


async def _facts(session: AsyncSession) -> tuple[int, set[str], str]:
    port = int(await session.scalar(text("SELECT inet_server_port()")) or 0)
    seen = set(await session.scalars(text("SELECT note FROM replica_notes")))
    setting = str(await session.scalar(text("SELECT current_setting(:name)"), {"name": TENANT_SETTING}))
    return port, seen, setting


async def test_an_idle_caught_up_replica_has_no_lag(streaming_pair: StreamingPair, reads: Reads) -> None:
    # The naive figure, now() minus the last replayed commit, passes the bound while nothing happens.
    await eventually(
        lambda: _on_replica(streaming_pair, "SELECT now() - pg_last_xact_replay_timestamp() > interval '1.5 seconds'")
    )
    assert reads.lag is not None
    assert await eventually(lambda: _is_zero(reads)) is True


async def _is_zero(router: Reads) -> bool:
    assert router.lag is not None
    return await router.lag.current() == 0.0


async def test_a_fresh_replica_serves_reads_as_the_callers_tenant(streaming_pair: StreamingPair, reads: Reads) -> None:
    note = await _note_on_primary(streaming_pair)

    async def replica_has_it() -> bool:
        port, seen, _ = await _read(reads)
        return port == streaming_pair.replica.port and note in seen

    assert await eventually(replica_has_it)
    assert isinstance(reads.observer, Recorder)
    assert reads.observer.reads[-1] == ("replica", "fresh")


@pytest.mark.usefixtures("paused_replay")
async def test_under_the_bound_a_paused_replica_serves_what_it_has(
    streaming_pair: StreamingPair, lenient_reads: Reads
) -> None:
    note = await _note_on_primary(streaming_pair)

    port, seen, _ = await _read(lenient_reads)

    # Served by the replica, which has not replayed the note: the read really came from it.
    assert port == streaming_pair.replica.port
    assert note not in seen


@pytest.mark.usefixtures("paused_replay")
async def test_reads_fall_back_to_the_primary_while_replay_is_paused(
    streaming_pair: StreamingPair, reads: Reads
) -> None:
    note = await _note_on_primary(streaming_pair)

    _, seen, _ = await eventually(lambda: _read_from(reads, streaming_pair.primary.port))

    assert note in seen
    assert isinstance(reads.observer, Recorder)
    assert reads.observer.reads[-1] == ("primary", "lagging")


async def _read_from(router: Reads, port: int) -> tuple[int, set[str], str] | None:
    facts = await _read(router)
    return facts if facts[0] == port else None


async def test_reads_return_to_the_replica_once_replay_resumes(streaming_pair: StreamingPair, reads: Reads) -> None:
    await streaming_pair.set_replay(paused=True)
    try:
        note = await _note_on_primary(streaming_pair)
        await eventually(lambda: _read_from(reads, streaming_pair.primary.port))
    finally:
        await streaming_pair.set_replay(paused=False)

    _, seen, _ = await eventually(lambda: _read_from(reads, streaming_pair.replica.port))

    assert note in seen


async def test_an_unreachable_replica_sends_reads_to_the_primary(streaming_pair: StreamingPair, notes: str) -> None:
    nowhere = f"postgresql+asyncpg://{APP_ROLE}@127.0.0.1:{free_port()}/postgres"
    async with _router(streaming_pair, replica_url=nowhere) as router:
        port, _, _ = await _read(router)

    assert port == streaming_pair.primary.port
    assert isinstance(router.observer, Recorder)
    assert router.observer.reads == [("primary", "unreachable")]
    assert router.observer.lags == [None]


async def test_a_server_not_in_recovery_is_not_used_as_a_replica(streaming_pair: StreamingPair, notes: str) -> None:
    async with _router(streaming_pair, replica_url=streaming_pair.primary.url(APP_ROLE)) as router:
        _, why = await router.choose()

    assert why == "unreachable"


async def test_a_recent_write_keeps_the_read_on_the_primary(reads: Reads) -> None:
    await eventually(lambda: _is_zero(reads))

    async def wrote() -> bool:
        return True

    database, why = await reads.choose(recent_write=wrote)

    assert (database, why) == (reads.primary, "recent_write")


async def test_without_a_replica_every_read_goes_to_the_primary_unmeasured(streaming_pair: StreamingPair) -> None:
    router = Reads(primary=Database(url=streaming_pair.primary.url(APP_ROLE), pool_size=1))
    try:
        assert await router.choose() == (router.primary, "no_replica")
        assert router.lag is None
    finally:
        await router.primary.dispose()


async def test_concurrent_reads_share_one_lag_measurement(streaming_pair: StreamingPair, notes: str) -> None:
    async with _router(streaming_pair, probe_ttl=60) as router:
        await asyncio.gather(*(router.choose() for _ in range(50)))
        await router.choose()

    assert isinstance(router.observer, Recorder)
    assert len(router.observer.lags) == 1
