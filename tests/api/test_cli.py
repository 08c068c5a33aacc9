"""The ``fieldhub`` command line as a process: the worker stops cleanly, embedded data survive a restart."""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import sys
from pathlib import Path

import asyncpg
from litestar import Litestar
from litestar.testing import AsyncTestClient

from api import embedded
from api.settings import Settings
from persistence.backup import libpq_url


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
        assert await process.wait() == 0


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
