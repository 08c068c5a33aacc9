"""``fieldhub db report`` on a real database: revision, tables, an unused and a bloated index, a table whose RLS is not forced."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import asyncpg

from persistence import migrate
from persistence.backup import libpq_url
from persistence.report import RlsGap, collect_report, render_report, rls_problems

ROOT = Path(__file__).resolve().parents[2]


async def _prepare(url: str) -> None:
    """A probe table whose index is never scanned and, after most rows go, mostly empty pages."""
    connection = await asyncpg.connect(libpq_url(url))
    try:
        await connection.execute("CREATE TABLE report_probe (id bigint, label text)")
        await connection.execute("CREATE INDEX report_probe_label ON report_probe (label)")
        await connection.execute("INSERT INTO report_probe SELECT g, 'label-' || g FROM generate_series(1, 60000) g")
        await connection.execute("DELETE FROM report_probe WHERE id % 20 <> 0")
        await connection.execute("VACUUM ANALYZE report_probe")
        # A tenant table that lost FORCE: its owner would bypass row-level security.
        await connection.execute("ALTER TABLE job NO FORCE ROW LEVEL SECURITY")
    finally:
        await connection.close()


async def test_the_report_names_sizes_unused_and_bloated_indexes_and_rls_gaps(scratch_database: str) -> None:
    await asyncio.to_thread(migrate.upgrade, scratch_database)
    await _prepare(scratch_database)
    report = await collect_report(scratch_database)

    assert "(head)" in report.revision
    tables = {t.name: t for t in report.tables}
    assert {"job", "tenant", "report_probe"} <= set(tables)
    assert 2000 <= tables["report_probe"].rows_estimate <= 4000
    assert tables["report_probe"].total_bytes > 1024 * 1024
    assert "report_probe_label" in {i.name for i in report.unused_indexes}
    # Primary keys and unique indexes enforce rules: never reported as unused.
    assert not any(i.name.startswith("pk_") for i in report.unused_indexes)
    bloated = {i.name: i for i in report.bloated_indexes}
    assert "report_probe_label" in bloated
    assert bloated["report_probe_label"].bloat_ratio is not None
    assert bloated["report_probe_label"].bloat_ratio >= 5
    assert report.rls_gaps == [RlsGap("job", "rls not forced")]
    text = render_report(report)
    assert "report_probe_label" in text
    assert "job: rls not forced" in text


async def test_slow_statements_are_reported_or_their_absence_explained(scratch_database: str) -> None:
    await asyncio.to_thread(migrate.upgrade, scratch_database)
    connection = await asyncpg.connect(libpq_url(scratch_database))
    try:
        preloaded = "pg_stat_statements" in (await connection.fetchval("SHOW shared_preload_libraries"))
        available = await connection.fetchval(
            "SELECT count(*) FROM pg_available_extensions WHERE name = 'pg_stat_statements'"
        )
        if available:
            await connection.execute("CREATE EXTENSION pg_stat_statements")
    finally:
        await connection.close()
    report = await collect_report(scratch_database)
    if available and preloaded:
        assert report.slow_statements is not None
    else:
        assert report.slow_statements is None
        assert report.slow_statements_note
        assert ("not installed" in report.slow_statements_note) == (not available)


def test_rls_problems_tells_missing_disabled_and_unforced_apart() -> None:
    rows = [("a", True, True), ("b", False, False), ("c", True, False)]
    assert rls_problems(["a", "b", "c", "d"], rows) == [
        RlsGap("b", "rls disabled"),
        RlsGap("c", "rls not forced"),
        RlsGap("d", "missing table"),
    ]


def test_the_cli_prints_the_report(scratch_database: str) -> None:
    env = {**os.environ, "FIELDHUB_DATABASE_URL": scratch_database}
    subprocess.run(
        [sys.executable, "-m", "api.cli", "db", "upgrade"], env=env, cwd=ROOT, check=True, capture_output=True
    )
    shown = subprocess.run(
        [sys.executable, "-m", "api.cli", "db", "report"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert shown.returncode == 0, shown.stderr
    assert "revision:" in shown.stdout
    assert "tenant tables missing forced row-level security: 0" in shown.stdout
