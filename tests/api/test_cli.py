"""The ``fieldhub`` command line as a process: the worker stops cleanly, embedded data survive a restart."""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import signal
import socket
import sys
import time
from pathlib import Path

import asyncpg
import httpx
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from api import embedded
from api.settings import Settings
from persistence.backup import libpq_url
from tests.api.metrics.scrape import sample
from tests.kit import create_database, drop_database, eventually


async def test_worker_stops_cleanly_on_sigterm(tmp_path: Path, settings: Settings) -> None:
    env = {
        **os.environ,
        "FIELDHUB_DATA_DIR": str(tmp_path),
        "FIELDHUB_DATABASE_URL": settings.database_url or "",
        "FIELDHUB_REDIS_URL": settings.redis_url or "",
        # The same key as the rest of the run: secrets sealed in the shared database stay readable.
        "FIELDHUB_SECRET_KEY": settings.secret_key or "",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "api.cli", "worker", env=env, stderr=asyncio.subprocess.PIPE
    )
    assert process.stderr is not None
    async with asyncio.timeout(30):
        while b"worker started" not in await process.stderr.readline():
            pass
        process.send_signal(signal.SIGTERM)
        # Read on to the end: a worker logging into a full pipe would block there and never exit.
        _, rest = await process.communicate()
    assert process.returncode == 0, rest[-2000:].decode(errors="replace")


async def test_embedded_postgres_keeps_data_across_a_restart(tmp_path: Path) -> None:
    script = (
        "import asyncio, asyncpg, sys; from api import embedded; from persistence.backup import libpq_url\n"
        "async def main():\n"
        "    c = await asyncpg.connect(libpq_url(embedded.start_postgres(__import__('pathlib').Path(sys.argv[1]))))\n"
        "    await c.execute('CREATE TABLE kept (v int); INSERT INTO kept VALUES (42)')\n"
        "    await c.close()\n"
        "asyncio.run(main())\n"
    )
    first = await asyncio.create_subprocess_exec(sys.executable, "-c", script, str(tmp_path / "pg"))
    assert await first.wait() == 0
    # The first process stopped its server on exit; this one starts it again on the same folder.
    connection = await asyncpg.connect(libpq_url(embedded.start_postgres(tmp_path / "pg")))
    try:
        assert await connection.fetchval("SELECT v FROM kept") == 42
    finally:
        await connection.close()


def _processes_mentioning(text: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if text.encode() in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


async def test_serve_stops_its_embedded_servers_on_sigterm(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if k not in ("FIELDHUB_DATABASE_URL", "FIELDHUB_REDIS_URL")}
    env["FIELDHUB_DATA_DIR"] = str(tmp_path)
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "api.cli", "serve", "--port", str(port), env=env, stderr=asyncio.subprocess.DEVNULL
    )

    async def serving() -> bool | None:
        async with httpx.AsyncClient() as http:
            try:
                return (await http.get(f"http://127.0.0.1:{port}/health/live")).status_code == 200 or None
            except httpx.HTTPError:
                return None

    await eventually(serving, timeout=90)
    assert _processes_mentioning(str(tmp_path)), "the embedded servers should run under the data folder"
    process.send_signal(signal.SIGTERM)
    assert await asyncio.wait_for(process.wait(), 60) == 0

    async def servers_gone() -> bool | None:
        return not _processes_mentioning(str(tmp_path)) or None

    await eventually(servers_gone, timeout=30)
    assert not (tmp_path / "postgres" / "postmaster.pid").exists()


async def test_create_admin_makes_a_tenant_whose_admin_signs_in(
    tmp_path: Path, settings: Settings, client: AsyncTestClient[Litestar]
) -> None:
    slug = f"cli-{secrets.token_hex(4)}"
    env = {
        **os.environ,
        "FIELDHUB_DATA_DIR": str(tmp_path),
        "FIELDHUB_DATABASE_URL": settings.database_url or "",
        "FIELDHUB_SECRET_KEY": settings.secret_key or "",
        "FIELDHUB_ADMIN_PASSWORD": "a-long-admin-passphrase",
    }
    args = ["create-admin", "--tenant", slug, "--email", f"boss@{slug}.example", "--name", "Boss"]
    process = await asyncio.create_subprocess_exec(sys.executable, "-m", "api.cli", *args, env=env)
    assert await asyncio.wait_for(process.wait(), 60) == 0
    again = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "api.cli", *args, env=env, stderr=asyncio.subprocess.PIPE
    )
    _, err = await asyncio.wait_for(again.communicate(), 60)
    assert again.returncode == 1
    assert b"exists already" in err
    response = await client.post(
        "/api/v1/auth/login", json={"email": f"boss@{slug}.example", "password": "a-long-admin-passphrase"}
    )
    assert response.status_code == 200
    assert "users:write" in (await client.get("/api/v1/auth/me")).json()["permissions"]


async def _fieldhub(*args: str, env: dict[str, str]) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "api.cli", *args, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


@pytest.fixture
async def small_database(scratch_database: str) -> str:
    """A database with one table of 100 rows: its backups take a second."""
    connection = await asyncpg.connect(libpq_url(scratch_database))
    try:
        await connection.execute("CREATE TABLE reading (v int); INSERT INTO reading SELECT generate_series(1, 100)")
    finally:
        await connection.close()
    return scratch_database


def _backup_env(tmp_path: Path, database_url: str, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "FIELDHUB_DATA_DIR": str(tmp_path),
        "FIELDHUB_DATABASE_URL": database_url,
        "FIELDHUB_BACKUP_DIR": str(tmp_path / "backups"),
        **extra,
    }


async def test_db_backup_stores_a_verified_backup_that_db_backups_lists_and_db_restore_restores(
    tmp_path: Path, small_database: str, postgres_server_url: str
) -> None:
    env = _backup_env(tmp_path, small_database)
    code, out, err = await _fieldhub("db", "backup", env=env)
    assert code == 0, err
    assert "verified" in out
    code, out, _ = await _fieldhub("db", "backups", env=env)
    assert code == 0
    [header, line] = out.strip().splitlines()
    assert header.split() == ["name", "taken_at", "(UTC)", "size", "status"]
    name = line.split()[0]
    assert name.startswith("fieldhub-")
    assert name.endswith("-manual")
    assert " verified in " in line
    code, out, _ = await _fieldhub("db", "backups", "--json", env=env)
    [manifest] = json.loads(out)
    assert (manifest["name"], manifest["tables"], manifest["verification"]["status"]) == (
        name,
        {"reading": 100},
        "verified",
    )

    target_name = f"fieldhub_restore_{secrets.token_hex(4)}"
    target = await create_database(postgres_server_url, target_name)
    try:
        code, out, err = await _fieldhub("db", "restore", name, env=_backup_env(tmp_path, target))
        assert code == 0, err
        assert f"restored {name}" in out
        connection = await asyncpg.connect(libpq_url(target))
        try:
            assert await connection.fetchval("SELECT count(*) FROM reading") == 100
        finally:
            await connection.close()
    finally:
        await drop_database(postgres_server_url, target_name)


async def test_db_restore_of_an_unknown_backup_fails_with_not_found(tmp_path: Path, small_database: str) -> None:
    code, _, err = await _fieldhub(
        "db", "restore", "fieldhub-20200101T000000Z", env=_backup_env(tmp_path, small_database)
    )
    assert code == 1
    assert "(not_found)" in err


async def test_db_backups_without_a_store_says_how_to_configure_one(tmp_path: Path, small_database: str) -> None:
    env = _backup_env(tmp_path, small_database)
    del env["FIELDHUB_BACKUP_DIR"]
    code, _, err = await _fieldhub("db", "backups", env=env)
    assert code == 1
    assert "FIELDHUB_BACKUP_DIR" in err
    assert "(no_store)" in err


async def test_a_backup_folder_and_a_bucket_together_are_refused(tmp_path: Path, small_database: str) -> None:
    env = _backup_env(tmp_path, small_database, FIELDHUB_BACKUP_S3_BUCKET="fieldhub-backups")
    code, _, err = await _fieldhub("db", "backups", env=env)
    assert code == 2
    assert "FIELDHUB_BACKUP_DIR and FIELDHUB_BACKUP_S3_BUCKET" in err


async def test_the_worker_takes_a_verified_backup_and_reports_it_on_its_metrics_port(
    tmp_path: Path, settings: Settings
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = _backup_env(
        tmp_path,
        settings.database_url or "",
        FIELDHUB_REDIS_URL=settings.redis_url or "",
        FIELDHUB_SECRET_KEY=settings.secret_key or "",
    )
    with (tmp_path / "worker.log").open("wb") as log:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "api.cli", "worker", "--metrics-port", str(port), env=env, stderr=log
        )
        try:

            async def verified_at() -> float | None:
                try:
                    async with httpx.AsyncClient() as http:
                        text = (await http.get(f"http://127.0.0.1:{port}/metrics")).text
                except httpx.TransportError:
                    return None
                return sample(text, "fieldhub_backup_last_verified_timestamp_seconds", store="folder")

            stamp = await eventually(verified_at, timeout=90)
        finally:
            process.send_signal(signal.SIGTERM)
            assert await asyncio.wait_for(process.wait(), 30) == 0
    assert abs(stamp - time.time()) < 120
    [backup] = [path.name for path in (tmp_path / "backups").iterdir() if path.suffix == ".json"]
    assert backup.startswith("fieldhub-")
