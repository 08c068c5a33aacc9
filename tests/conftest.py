"""Shared fixtures: real PostgreSQL and Redis, from FIELDHUB_TEST_* or embedded ones started once per run."""

from __future__ import annotations

import asyncio
import os
import secrets
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import redis.asyncio as aioredis
from litestar import Litestar
from litestar.testing import AsyncTestClient

from api import embedded
from api.app import create_app
from api.runtime import Runtime
from api.settings import Settings
from bench.redis_cluster import LocalRedisCluster
from delivery.jobs import job_handlers
from delivery.worker import Worker
from persistence import migrate
from tests.kit import TenantKit, create_database, drop_database
from tests.mailbox import Inbox, running_smtp_server
from tests.pgcluster import BIN as PG_BIN
from tests.pgcluster import StreamingPair, missing_tools


@pytest.fixture(scope="session")
def test_data_dir() -> Path:
    return Path(tempfile.mkdtemp(prefix="fieldhub-test-"))


@pytest.fixture(scope="session")
def redis_url(test_data_dir: Path) -> str:
    """URL of a real Redis: ``FIELDHUB_TEST_REDIS_URL`` or an embedded one."""
    return os.environ.get("FIELDHUB_TEST_REDIS_URL") or embedded.start_redis(test_data_dir / "redis")


@pytest.fixture
async def redis_client(redis_url: str) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.Redis.from_url(redis_url)
    try:
        yield client
    finally:
        await client.aclose()


@pytest.fixture(scope="session")
def postgres_server_url(test_data_dir: Path) -> str:
    """A real PostgreSQL server: ``FIELDHUB_TEST_DATABASE_URL`` (any database on it) or an embedded one."""
    return os.environ.get("FIELDHUB_TEST_DATABASE_URL") or embedded.start_postgres(test_data_dir / "pg")


@pytest.fixture
async def scratch_database(postgres_server_url: str) -> AsyncIterator[str]:
    """Owner URL of a new, empty database for one test (dropped afterwards)."""
    name = f"fieldhub_scratch_{secrets.token_hex(4)}"
    url = await create_database(postgres_server_url, name)
    yield url
    await drop_database(postgres_server_url, name)


@pytest.fixture(scope="session")
async def database_url(postgres_server_url: str) -> AsyncIterator[str]:
    """Owner URL of a fresh, migrated database for this run (dropped at the end)."""
    server_url = postgres_server_url
    name = f"fieldhub_test_{secrets.token_hex(4)}"
    url = await create_database(server_url, name)
    await asyncio.to_thread(migrate.upgrade, url)
    yield url
    await drop_database(server_url, name)


@pytest.fixture(scope="session")
def smtp_server() -> Iterator[tuple[Inbox, int]]:
    """A real SMTP server the app sends its mail to."""
    with running_smtp_server() as server:
        yield server


@pytest.fixture(scope="session")
def inbox(smtp_server: tuple[Inbox, int]) -> Inbox:
    return smtp_server[0]


@pytest.fixture(scope="session")
def settings(database_url: str, redis_url: str, test_data_dir: Path, smtp_server: tuple[Inbox, int]) -> Settings:
    return Settings(
        database_url=database_url,
        redis_url=redis_url,
        smtp_url=f"smtp://127.0.0.1:{smtp_server[1]}",
        # The tests' relays listen on 127.0.0.1 (the refusal itself: tests/api/mail_relay).
        mail_relay_private_hosts=True,
        data_dir=str(test_data_dir / "data"),
        secret_key="test-secret-key-not-for-production",
        login_lock_seconds=60,
    )


@pytest.fixture(scope="session")
async def app(settings: Settings) -> Litestar:
    return create_app(settings)


@pytest.fixture(scope="session")
async def client(app: Litestar) -> AsyncIterator[AsyncTestClient[Litestar]]:
    """An HTTP client on the app (its lifespan runs once per test run); carries no cookies between tests."""
    async with AsyncTestClient(app=app, base_url="http://127.0.0.1:8000") as test_client:
        yield test_client


@pytest.fixture(autouse=True)
def _fresh_cookies(request: pytest.FixtureRequest) -> None:
    if "client" in request.fixturenames:
        request.getfixturevalue("client").cookies.clear()


@pytest.fixture(scope="session")
async def runtime(settings: Settings) -> AsyncIterator[Runtime]:
    """The tests' own runtime (the app's lives on the test client's loop): for arranging and checking data."""
    async with Runtime.open(settings) as test_runtime:
        yield test_runtime


@pytest.fixture
async def tenant(runtime: Runtime) -> TenantKit:
    """A new tenant of its own for this test, with one user per built-in role."""
    return await TenantKit.create(runtime)


@pytest.fixture
async def other_tenant(runtime: Runtime) -> TenantKit:
    return await TenantKit.create(runtime)


@pytest.fixture
async def worker(runtime: Runtime) -> AsyncIterator[Worker]:
    """A delivery worker running during one test, as ``fieldhub worker`` does.

    Per test, not per run: jobs are claimed across tenants, so a worker left running would take
    the jobs of tests that run their own worker with their own senders.
    """
    running = Worker(db=runtime.db, handlers=job_handlers(mailer=runtime.mailer), poll_seconds=1.0)
    stop = asyncio.Event()
    task = asyncio.create_task(running.run(stop))
    yield running
    stop.set()
    await asyncio.wait_for(task, 10)


@pytest.fixture(scope="session")
async def streaming_pair() -> AsyncIterator[StreamingPair]:
    """A private, migrated PostgreSQL primary with a streaming replica (for the read-routing tests)."""
    missing = missing_tools()
    if missing:
        pytest.skip(f"PostgreSQL server binaries not found in {PG_BIN}: {', '.join(missing)}")
    pair = await asyncio.to_thread(StreamingPair.start)
    try:
        await asyncio.to_thread(migrate.upgrade, pair.primary.url())
        yield pair
    finally:
        await asyncio.to_thread(pair.stop)


@pytest.fixture
async def paused_replay(streaming_pair: StreamingPair) -> AsyncIterator[None]:
    """The replica receives WAL but replays none of it until the test ends."""
    await streaming_pair.set_replay(paused=True)
    try:
        yield
    finally:
        await streaming_pair.set_replay(paused=False)


@pytest.fixture
def replicated_cluster() -> Iterator[LocalRedisCluster]:
    """A Redis Cluster of this test alone: 3 primaries with a replica each; a silent primary is
    declared failed after 1 s, so killing one promotes its replica within a few seconds."""
    with LocalRedisCluster(primaries=3, replicas=1, node_timeout_ms=1_000) as cluster:
        yield cluster
