"""Hot statements compiled once and run on the session's own asyncpg connection, inside its transaction.

SQLAlchemy's execution path (cache key, compiled-cache lookup, parameter and result processing,
events, greenlet switches) costs 0.5 to 1 ms of CPU per statement on the benchmark machine, several
times asyncpg's own prepared statement; the API's busiest requests run a few statements each
(docs/benchmarks.md, "Field operations API"). A :class:`Prepared` statement is written in SQLAlchemy
Core like any other and compiled for asyncpg once, at import.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

import asyncpg
from sqlalchemy import any_, event, literal
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import UUID as PG_UUID
from sqlalchemy.dialects.postgresql.asyncpg import dialect as asyncpg_dialect
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.types import JSON
from sqlalchemy.util import await_only

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Iterable, Sequence

    from sqlalchemy import ColumnElement
    from sqlalchemy.engine import Connection
    from sqlalchemy.orm import Session, SessionTransaction
    from sqlalchemy.sql.compiler import SQLCompiler
    from sqlalchemy.sql.expression import ClauseElement
    from sqlalchemy.types import TypeEngine

_DIALECT = asyncpg_dialect()  # type: ignore[no-untyped-call]
_MISSING = object()


class Row(asyncpg.Record):  # type: ignore[misc]  # asyncpg ships no types
    """A row by position, by column name (``row["status"]``) or as an attribute (``row.status``), as
    SQLAlchemy's rows are read."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


UUIDS: TypeEngine[Any] = ARRAY(PG_UUID(as_uuid=True))
"""The type of a parameter holding a list of ids (``uuid[]``): to ``unnest`` or compare with ``= ANY``."""


def one_of(column: ColumnElement[Any], values: Iterable[Any]) -> ColumnElement[bool]:
    """``column`` among the fixed ``values``, as a :class:`Prepared` statement takes it: ``= ANY`` of one
    array parameter (an ``in_()`` is rendered anew per execution)."""
    return column == any_(literal(list(values), ARRAY(column.type)))


class Prepared:
    """A Core statement compiled once for asyncpg and run with asyncpg's ``fetch`` in a session's transaction.

    Values go to asyncpg as they are (UUIDs, aware datetimes, strings, lists); only JSON parameters
    are encoded here, because SQLAlchemy's asyncpg dialect registers JSON codecs that take text (they
    decode JSON results, so rows need no processing). Rows are asyncpg records: by position, by
    column name or as attributes (:class:`Row`).

    What SQLAlchemy would add is skipped: its events (so these statements must not write the tables
    the principal cache watches: ``app_user``, ``user_role``, ``role``) and its exception wrapping (a
    database error is asyncpg's own exception, so use them where no caller catches database errors).

    Args:
        statement: a Core statement whose caller-supplied values are named ``bindparam``s; a fixed
            list must be written :func:`one_of`, not ``in_()``, whose values are rendered per execution.

    Raises:
        ValueError: If the statement needs work per execution: an expanding ``in_()``, a computed value,
            a column default computed in Python (give ``updated_at`` and the like a parameter).
    """

    def __init__(self, statement: ClauseElement) -> None:
        compiled = cast("SQLCompiler", statement.compile(dialect=_DIALECT))
        self.sql = str(compiled)
        if "POSTCOMPILE" in self.sql:
            raise ValueError("a Prepared statement cannot hold an expanding IN; use one_of()")
        computed = [column.name for column in (*compiled.insert_prefetch, *compiled.update_prefetch)]
        if computed:
            # SQLAlchemy computes these per execution (an ``updated_at`` on update, an id on insert).
            raise ValueError(f"a Prepared statement cannot compute column defaults; give {computed} values")
        names: Sequence[str] = compiled.positiontup or []
        processors = compiled._bind_processors
        self._params: list[tuple[str, Any, Callable[[Any], Any] | None]] = []
        for name in names:
            bind = compiled.binds[name]
            if bind.callable is not None:
                raise ValueError(f"a Prepared statement cannot compute {name!r} per execution")
            fixed = _MISSING if bind.required else bind.value
            encode = cast("Callable[[Any], Any]", processors[name]) if isinstance(bind.type, JSON) else None
            self._params.append((name, fixed, encode))

    def arguments(self, values: dict[str, Any]) -> list[Any]:
        """The statement's positional arguments for ``values`` (JSON ones encoded), as asyncpg takes them."""
        arguments = []
        for name, fixed, encode in self._params:
            value = values[name] if fixed is _MISSING else values.get(name, fixed)
            arguments.append(encode(value) if encode is not None and value is not None else value)
        return arguments

    async def fetch(self, session: AsyncSession | DriverTransaction, **values: Any) -> list[Row]:
        """Every row the statement returns, run in ``session``'s transaction (begun first if need be).

        Raises:
            KeyError: If a named parameter without a value in the statement is not given.
        """
        driver = await _driver_in_transaction(session)
        rows: list[Row] = await driver.fetch(self.sql, *self.arguments(values), record_class=Row)
        return rows

    async def first(self, session: AsyncSession | DriverTransaction, **values: Any) -> Row | None:
        """The first row, or ``None``."""
        driver = await _driver_in_transaction(session)
        row: Row | None = await driver.fetchrow(self.sql, *self.arguments(values), record_class=Row)
        return row

    async def execute_many(self, session: AsyncSession | DriverTransaction, rows: Sequence[dict[str, Any]]) -> None:
        """Run the statement once per row of ``rows`` (asyncpg's ``executemany``: one pipelined batch)."""
        driver = await _driver_in_transaction(session)
        await driver.executemany(self.sql, [self.arguments(row) for row in rows])

    async def scalar(self, session: AsyncSession | DriverTransaction, **values: Any) -> Any:
        """The first column of the first row, or ``None``."""
        driver = await _driver_in_transaction(session)
        return await driver.fetchval(self.sql, *self.arguments(values))


_ADAPTER_KEY = "fieldhub.driver_adapter"


@event.listens_for(AsyncSession.sync_session_class, "after_begin")
def _remember_adapter(session: Session, transaction: SessionTransaction, connection: Connection) -> None:
    # Reaching the driver through the AsyncSession (its connection proxy, then the pool's) costs two
    # greenlet hops per statement, several times the statement's own CPU: keep it for the transaction.
    session.info[_ADAPTER_KEY] = connection.connection.dbapi_connection


@event.listens_for(AsyncSession.sync_session_class, "after_transaction_end")
def _forget_adapter(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        session.info.pop(_ADAPTER_KEY, None)


class DriverTransaction:
    """A transaction on a pooled connection's asyncpg driver, with no Session around it
    (:meth:`persistence.engine.Database.driver_transaction`): for a request whose statements are all
    :class:`Prepared`, what a Session's transaction costs in CPU (several times a short statement's) is
    not spent. Nothing of the ORM happens in it: what a Session's events do (staged audit entries, live
    events) is hung on :attr:`before_commit` and :attr:`after_commit` by the code that needs it.
    """

    __slots__ = ("after_commit", "before_commit", "driver", "engine", "info")

    def __init__(self, driver: asyncpg.Connection, *, engine: AsyncEngine, info: dict[str, Any]) -> None:
        self.driver = driver
        self.engine = engine
        self.info = info
        """As a Session's ``info``: the database's ``session_info`` and what this transaction stages."""
        self.before_commit: list[Callable[[], Awaitable[None]]] = []
        """Awaited in order just before ``COMMIT``, inside the transaction."""
        self.after_commit: list[Callable[[], None]] = []
        """Called in order once the ``COMMIT`` is done; never after a rollback."""


async def _driver_in_transaction(session: AsyncSession | DriverTransaction) -> Any:
    """The asyncpg connection under ``session``, with its transaction begun.

    SQLAlchemy's asyncpg adapter sends ``BEGIN`` lazily, with the first statement; a session bound to
    a tenant has sent its ``set_config`` by then, an unbound one may not have, so begin it here.
    """
    if isinstance(session, DriverTransaction):
        return session.driver
    adapter: Any = session.info.get(_ADAPTER_KEY)
    if adapter is None:
        await session.connection()  # begins the session's transaction: _remember_adapter keeps its adapter
        adapter = session.info[_ADAPTER_KEY]
    return await _begun(adapter)


def driver_of(session: Session) -> Any:
    """:func:`_driver_in_transaction` for a synchronous session event running under an AsyncSession (in
    its greenlet, where ``await_only`` may wait)."""
    adapter: Any = session.info.get(_ADAPTER_KEY)
    if adapter is None:
        session.connection()
        adapter = session.info[_ADAPTER_KEY]
    return await_only(_begun(adapter))


async def _begun(adapter: Any) -> Any:
    # The adapter's own flag and start (no public API for them; SQLAlchemy is pinned in constraints.txt,
    # and tests/persistence/test_prepared.py runs this path).
    if not adapter._started:
        await adapter._start_transaction()
    return adapter._connection
