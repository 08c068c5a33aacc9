"""One pooled connection held for a whole batch of sends: its read and its record transactions.

Each checkout from the pool pings the connection first (three round trips with asyncpg: ``BEGIN``,
``;``, ``ROLLBACK``); a batch that read once and recorded three times paid that four times over. A
batch checks its connection out once and runs its transactions on it one after the other.
"""

from __future__ import annotations

from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Protocol

from persistence.tenancy import bind_tenant

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from contextlib import AbstractAsyncContextManager
    from uuid import UUID

    from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

    from persistence.engine import Database


class Transactions(Protocol):
    """Anything that opens a transaction as a tenant: a :class:`~persistence.engine.Database`, or a
    :class:`BatchConnection`."""

    def transaction(self, *, tenant_id: UUID | None = None) -> AbstractAsyncContextManager[AsyncSession]: ...


class BatchConnection:
    """Transactions on one connection, one at a time, as :meth:`Database.transaction` opens them
    (the tenant set in each, the database's session hooks on each session).

    Not safe for two transactions at once: a batch reads, then records group after group.
    """

    def __init__(self, *, db: Database, connection: AsyncConnection) -> None:
        self._db = db
        self._connection = connection

    @asynccontextmanager
    async def transaction(self, *, tenant_id: UUID | None = None) -> AsyncIterator[AsyncSession]:
        """Yield a session inside one transaction on the held connection: committed on success,
        rolled back on error (the connection stays usable for the next one)."""
        session = self._db.sessionmaker(bind=self._connection)
        session.info.update(self._db.session_info)
        bind_tenant(session, tenant_id)
        async with session, session.begin():
            yield session


@asynccontextmanager
async def batch_connection(db: Database) -> AsyncIterator[BatchConnection]:
    """Check one connection out of ``db``'s pool for the length of the block."""
    async with db.engine.connect() as connection:
        yield BatchConnection(db=db, connection=connection)
