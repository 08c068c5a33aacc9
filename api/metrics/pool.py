"""Database pool metrics: connections in use, the pool's limit, and checkouts that exhausted it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import event
from sqlalchemy.pool import QueuePool

from api.metrics import families

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine


def instrument_pool(engine: AsyncEngine, *, name: str) -> None:
    """Track ``engine``'s pool under the label ``pool=name`` until the engine is disposed.

    Args:
        engine: The process's engine (``Database.engine``).
        name: ``app`` for the serving processes' database, ``worker`` for ``fieldhub worker``'s.
    """
    pool = engine.sync_engine.pool
    if not isinstance(pool, QueuePool):
        return  # NullPool and friends hold nothing between uses: nothing to watch
    # SQLAlchemy keeps max_overflow private; Database sets it, so it is there for every fieldhub pool.
    capacity = pool.size() + max(0, int(getattr(pool, "_max_overflow", 0)))
    in_use = families.db_pool_in_use.labels(pool=name)
    exhausted = families.db_pool_exhausted.labels(pool=name)
    limit = families.db_pool_capacity.labels(pool=name)
    limit.inc(capacity)
    held = 0

    def checked_out(*_: Any) -> None:
        nonlocal held
        held += 1
        in_use.inc()
        if held >= capacity:
            exhausted.inc()

    def checked_in(*_: Any) -> None:
        nonlocal held
        held -= 1
        in_use.dec()

    def disposed(*_: Any) -> None:
        limit.dec(capacity)

    event.listen(engine.sync_engine, "checkout", checked_out)
    event.listen(engine.sync_engine, "checkin", checked_in)
    event.listen(engine.sync_engine, "engine_disposed", disposed)
