"""``fieldhub db report``: the schema's revision and drift, table sizes, unused and bloated indexes, RLS gaps, slow statements.

Read-only; runs as the owner (it reads every table's statistics and the catalog). Statistics are
PostgreSQL's own: counts since they were last reset, sizes and row estimates as of the last
``ANALYZE``.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import asyncpg
import msgspec

from persistence import migrate
from persistence.backup import libpq_url
from persistence.base import tenant_tables

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["DbReport", "collect_report", "render_report"]

# Below this size an index's bloat costs nothing worth a line in the report.
MIN_BLOAT_BYTES = 1024 * 1024
BLOAT_RATIO = 2.0
SLOWEST = 10


class TableSize(msgspec.Struct, frozen=True):
    name: str
    total_bytes: int
    """Table, indexes and TOAST."""
    rows_estimate: int
    """``pg_class.reltuples``: as of the last ANALYZE or VACUUM; -1 if never analyzed."""


class IndexNote(msgspec.Struct, frozen=True):
    table: str
    name: str
    bytes: int
    scans: int
    bloat_ratio: float | None = None
    """Actual size over the size its live rows need (estimated from ``pg_stats``)."""


class RlsGap(msgspec.Struct, frozen=True):
    table: str
    problem: str
    """``missing table``, ``rls disabled`` or ``rls not forced``."""


class SlowStatement(msgspec.Struct, frozen=True):
    query: str
    calls: int
    mean_ms: float
    total_ms: float


class DbReport(msgspec.Struct, frozen=True, kw_only=True):
    revision: str
    drift: str | None
    """``None`` when the models and the migrated schema agree, else what differs."""
    stats_since: str | None
    tables: list[TableSize]
    unused_indexes: list[IndexNote]
    bloated_indexes: list[IndexNote]
    rls_gaps: list[RlsGap]
    slow_statements: list[SlowStatement] | None
    """``None`` when ``pg_stat_statements`` cannot be read (see ``slow_statements_note``)."""
    slow_statements_note: str | None = None


_TABLES_SQL = """
SELECT c.relname, pg_total_relation_size(c.oid), c.reltuples::bigint
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')
 ORDER BY pg_total_relation_size(c.oid) DESC, c.relname
"""

# Unique and primary-key indexes enforce rules even when no query reads them: never "unused".
_UNUSED_SQL = """
SELECT s.relname, s.indexrelname, pg_relation_size(s.indexrelid), s.idx_scan
  FROM pg_stat_user_indexes s JOIN pg_index i ON i.indexrelid = s.indexrelid
 WHERE s.schemaname = 'public' AND s.idx_scan = 0 AND NOT i.indisunique AND NOT i.indisprimary
 ORDER BY pg_relation_size(s.indexrelid) DESC, s.indexrelname
"""

# A B-tree leaf entry takes a 4-byte line pointer, an 8-byte tuple header and its keys padded to 8
# bytes; pages hold ~8150 usable bytes filled to 90 %. Expression columns have no pg_stats width:
# 8 bytes is assumed. An estimate, good for telling a 3x bloated index from a healthy one.
_BLOAT_SQL = """
WITH widths AS (
    SELECT i.indexrelid, i.indrelid, sum(coalesce(st.avg_width, 8)) AS width
      FROM pg_index i
      JOIN pg_class ic ON ic.oid = i.indexrelid
      JOIN pg_am am ON am.oid = ic.relam AND am.amname = 'btree'
      CROSS JOIN LATERAL unnest(i.indkey) AS k(attnum)
      LEFT JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
      LEFT JOIN pg_class t ON t.oid = i.indrelid
      LEFT JOIN pg_namespace n ON n.oid = t.relnamespace
      LEFT JOIN pg_stats st ON st.schemaname = n.nspname AND st.tablename = t.relname AND st.attname = a.attname
     WHERE n.nspname = 'public'
     GROUP BY i.indexrelid, i.indrelid
)
SELECT t.relname, ic.relname, pg_relation_size(ic.oid), coalesce(s.idx_scan, 0),
       pg_relation_size(ic.oid)::float8
         / (8192 * greatest(1, ceil(ic.reltuples * (12 + 8 * ceil(w.width / 8.0)) / (8150 * 0.9)) + 1))
  FROM widths w
  JOIN pg_class ic ON ic.oid = w.indexrelid
  JOIN pg_class t ON t.oid = w.indrelid
  LEFT JOIN pg_stat_user_indexes s ON s.indexrelid = w.indexrelid
 WHERE ic.reltuples >= 0 AND pg_relation_size(ic.oid) >= $1
 ORDER BY 5 DESC
"""

_RLS_SQL = """
SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND c.relname = ANY($1::text[])
"""

_SLOW_SQL = """
SELECT query, calls, mean_exec_time, total_exec_time
  FROM pg_stat_statements
 WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
 ORDER BY mean_exec_time DESC
 LIMIT $1
"""


async def collect_report(owner_url: str, *, min_bloat_bytes: int = MIN_BLOAT_BYTES) -> DbReport:
    """Gather the report from the database at ``owner_url`` (an owner connection; nothing is written)."""
    revision = await asyncio.to_thread(migrate.current, owner_url)
    try:
        await asyncio.to_thread(migrate.check, owner_url)
        drift = None
    except migrate.SchemaDriftError as exc:
        drift = str(exc)
    connection = await asyncpg.connect(libpq_url(owner_url))
    try:
        tables = [TableSize(*row) for row in await connection.fetch(_TABLES_SQL)]
        unused = [IndexNote(*row) for row in await connection.fetch(_UNUSED_SQL)]
        bloated = [
            IndexNote(table, name, size, scans, round(ratio, 1))
            for table, name, size, scans, ratio in await connection.fetch(_BLOAT_SQL, min_bloat_bytes)
            if ratio >= BLOAT_RATIO
        ]
        rls_gaps = rls_problems(tenant_tables(), await connection.fetch(_RLS_SQL, tenant_tables()))
        since = await connection.fetchval(
            "SELECT stats_reset::text FROM pg_stat_database WHERE datname = current_database()"
        )
        slow, note = await _slow_statements(connection)
    finally:
        await connection.close()
    return DbReport(
        revision=revision or "base (no migration applied)",
        drift=drift,
        stats_since=since,
        tables=tables,
        unused_indexes=unused,
        bloated_indexes=bloated,
        rls_gaps=rls_gaps,
        slow_statements=slow,
        slow_statements_note=note,
    )


def rls_problems(expected: Sequence[str], rows: Sequence[tuple[str, bool, bool]]) -> list[RlsGap]:
    """Compare the tenant tables the models declare with the catalog's RLS flags.

    Example: ``rls_problems(["job"], [("job", True, False)])`` -> ``[RlsGap("job", "rls not forced")]``.
    """
    found = {name: (enabled, forced) for name, enabled, forced in rows}
    gaps = []
    for table in expected:
        if table not in found:
            gaps.append(RlsGap(table, "missing table"))
        elif not found[table][0]:
            gaps.append(RlsGap(table, "rls disabled"))
        elif not found[table][1]:
            gaps.append(RlsGap(table, "rls not forced"))
    return gaps


async def _slow_statements(connection: asyncpg.Connection) -> tuple[list[SlowStatement] | None, str | None]:
    installed = await connection.fetchval("SELECT 1 FROM pg_extension WHERE extname = 'pg_stat_statements'")
    if not installed:
        return None, "pg_stat_statements is not installed in this database (CREATE EXTENSION pg_stat_statements)"
    try:
        rows = await connection.fetch(_SLOW_SQL, SLOWEST)
    except asyncpg.PostgresError as exc:
        # Installed but not preloaded: the view exists and refuses to answer.
        return None, f"pg_stat_statements unavailable: {exc}"
    return [
        SlowStatement(" ".join(q.split())[:200], calls, round(mean, 2), round(total, 1))
        for q, calls, mean, total in rows
    ], None


def _size(count: int) -> str:
    value = float(count)
    for unit in ("B", "kB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GB"


def render_report(report: DbReport) -> str:
    """The report as text for a terminal, one section per finding."""
    lines = [f"revision: {report.revision}", f"drift: {report.drift or 'none (models and migrations agree)'}"]
    lines.append(f"statistics since: {report.stats_since or 'server start'}")
    lines.append("")
    lines.append(f"tables ({len(report.tables)}):")
    lines += [f"  {t.name:<32} {_size(t.total_bytes):>10}  ~{max(t.rows_estimate, 0)} rows" for t in report.tables]
    lines.append("")
    lines.append(f"unused indexes (no scan since statistics reset; unique ones excluded): {len(report.unused_indexes)}")
    lines += [f"  {i.table}.{i.name:<40} {_size(i.bytes):>10}" for i in report.unused_indexes]
    lines.append("")
    lines.append(
        f"bloated indexes (estimated {BLOAT_RATIO:.0f}x or more what their rows need): {len(report.bloated_indexes)}"
    )
    lines += [
        f"  {i.table}.{i.name:<40} {_size(i.bytes):>10}  x{i.bloat_ratio}  (REINDEX INDEX CONCURRENTLY {i.name})"
        for i in report.bloated_indexes
    ]
    lines.append("")
    lines.append(f"tenant tables missing forced row-level security: {len(report.rls_gaps)}")
    lines += [f"  {g.table}: {g.problem}" for g in report.rls_gaps]
    lines.append("")
    if report.slow_statements is None:
        lines.append(f"slowest statements: {report.slow_statements_note}")
    else:
        lines.append(f"slowest statements (mean time, top {SLOWEST}):")
        lines += [f"  {s.mean_ms:>10.2f} ms  x{s.calls:<8} {s.query}" for s in report.slow_statements]
    return "\n".join(lines)
