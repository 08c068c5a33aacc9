"""An app whose reads may go to a real streaming replica, and a runtime on the same primary to arrange data."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import msgspec
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from api.app import create_app
from api.runtime import Runtime
from api.settings import Settings
from persistence.tenancy import APP_ROLE
from tests.kit import TenantKit
from tests.pgcluster import StreamingPair


@pytest.fixture(scope="module")
def replica_settings(settings: Settings, streaming_pair: StreamingPair, test_data_dir: Path) -> Settings:
    return msgspec.structs.replace(
        settings,
        database_url=streaming_pair.primary.url(),
        database_app_url=None,
        database_replica_url=streaming_pair.replica.url(APP_ROLE),
        replica_max_lag_ms=1000,
        data_dir=str(test_data_dir / "replica-app"),
    )


@pytest.fixture(scope="module")
async def replica_client(replica_settings: Settings) -> AsyncIterator[AsyncTestClient[Litestar]]:
    """The app with ``FIELDHUB_DATABASE_REPLICA_URL`` set, its lifespan running for the module."""
    async with AsyncTestClient(app=create_app(replica_settings), base_url="http://127.0.0.1:8000") as client:
        yield client


@pytest.fixture(scope="module")
async def primary_runtime(replica_settings: Settings) -> AsyncIterator[Runtime]:
    """The tests' runtime on the private primary (arranging data there, as any write would)."""
    async with Runtime.open(replica_settings) as runtime:
        yield runtime


@pytest.fixture
async def replica_tenant(primary_runtime: Runtime) -> TenantKit:
    return await TenantKit.create(primary_runtime)


@pytest.fixture
def lenient_bound(replica_client: AsyncTestClient[Litestar]) -> Iterator[None]:
    """The app's lag bound raised to an hour for one test: a paused replica keeps serving what it has."""
    reads = replica_client.app.state.runtime.reads
    bound, reads.max_lag = reads.max_lag, 3600.0
    yield
    reads.max_lag = bound
