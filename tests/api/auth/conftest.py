"""Fixtures of the authentication tests: the app's principal cache on a clock the test moves by hand."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from api.auth.principal_cache import PrincipalCache

if TYPE_CHECKING:
    from collections.abc import Iterator

    from litestar import Litestar


class ManualClock:
    """Monotonic seconds that only move when a test says so."""

    def __init__(self) -> None:
        self.seconds = 0.0

    def __call__(self) -> float:
        return self.seconds

    def advance(self, seconds: float) -> None:
        self.seconds += seconds


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def principals(app: Litestar, clock: ManualClock) -> Iterator[PrincipalCache]:
    """The app's principal cache for this test: 5 seconds on ``clock``, the app's own one put back after."""
    runtime = app.state.runtime
    engine = runtime.db.engine.sync_engine
    kept = runtime.principals
    runtime.principals = cache = PrincipalCache(ttl=5.0, clock=clock)
    cache.watch(engine)
    try:
        yield cache
    finally:
        cache.unwatch(engine)
        runtime.principals = kept
