"""A report's rows as JSON (up to a limit) or as CSV, streamed from a server-side cursor for any size."""

from __future__ import annotations

import csv
import io
from typing import TYPE_CHECKING, Any, Final

import msgspec

from api.errors import AppError

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterable, Sequence
    from uuid import UUID

    from sqlalchemy import Select
    from sqlalchemy.ext.asyncio import AsyncSession

    from persistence.replica import Reads

__all__ = ["JSON_ROW_LIMIT", "columns_of", "csv_bytes", "csv_stream", "json_rows"]

JSON_ROW_LIMIT: Final = 5000
"""The most rows a JSON answer carries; past it the client is sent to the CSV form."""
CHUNK_ROWS: Final = 1000


def columns_of(statement: Select[Any]) -> list[str]:
    """The report's column names, in order."""
    return [str(column.key) for column in statement.selected_columns]


def _cell(value: Any) -> Any:
    """A value as JSON carries it (UUIDs and times as text); the CSV writes the same text."""
    return value if value is None or isinstance(value, (str, int, float, bool)) else msgspec.to_builtins(value)


async def json_rows(
    session: AsyncSession, statement: Select[Any], *, template: str, limit: int
) -> list[dict[str, Any]]:
    """The rows as dicts, reading one past ``limit`` to know whether there are more.

    Raises:
        AppError: ``too_large_for_json`` (422) past ``limit`` rows, naming the CSV form.
    """
    result = await session.execute(statement.limit(limit + 1))
    rows = [{key: _cell(value) for key, value in row._mapping.items()} for row in result]
    if len(rows) > limit:
        raise AppError(
            "too_large_for_json",
            f"This report has more than {limit} rows; ask for it as CSV.",
            status_code=422,
            details={"limit": limit, "csv": f"/api/v1/reports/{template}.csv"},
        )
    return rows


def _lines(columns: Sequence[str] | None, rows: Iterable[Sequence[Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    if columns is not None:
        writer.writerow(columns)
    writer.writerows([["" if value is None else _cell(value) for value in row] for row in rows])
    return buffer.getvalue()


async def csv_stream(reads: Reads, tenant_id: UUID, statement: Select[Any]) -> AsyncIterator[bytes]:
    """The CSV, header first, read through a server-side cursor in its own transaction (the request's
    transaction has ended when the body is sent; the replica's while it is fresh), :data:`CHUNK_ROWS`
    rows per chunk."""
    yield _lines(columns_of(statement), []).encode()
    async with reads.transaction(tenant_id=tenant_id) as session:
        result = await session.stream(statement.execution_options(yield_per=CHUNK_ROWS))
        async for chunk in result.partitions(CHUNK_ROWS):
            yield _lines(None, chunk).encode()


async def csv_bytes(session: AsyncSession, statement: Select[Any]) -> tuple[bytes, int]:
    """The whole CSV in memory (a scheduled run's output) and its number of rows."""
    result = await session.stream(statement.execution_options(yield_per=CHUNK_ROWS))
    parts = [_lines(columns_of(statement), [])]
    count = 0
    async for chunk in result.partitions(CHUNK_ROWS):
        parts.append(_lines(None, chunk))
        count += len(chunk)
    return "".join(parts).encode(), count
