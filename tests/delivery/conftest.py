"""Delivery test fixtures: a notification worker wired to a given SMTP server and a local push service, in this
process or in one of its own (to be killed)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from api.runtime import Runtime
from delivery.worker import Worker
from tests.delivery.arrange import set_aside_other_tenants_jobs
from tests.delivery.workers import running_worker
from tests.kit import TenantKit

WorkerFactory = Callable[..., "contextlib.AbstractAsyncContextManager[Worker]"]
ProcessFactory = Callable[..., "contextlib.AbstractAsyncContextManager[asyncio.subprocess.Process]"]
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def notification_worker(runtime: Runtime, tenant: TenantKit) -> WorkerFactory:
    """Start a worker running the notification jobs, mailing to ``smtp_port``, until the block ends.

    Other tenants' waiting notification jobs are set aside first: only this test's reach its servers.
    """

    def start(*, smtp_port: int, presence: object = None) -> contextlib.AbstractAsyncContextManager[Worker]:
        # The session-wide worker owns plain mail.
        return running_worker(
            runtime, tenant, smtp_port=smtp_port, presence=presence, without=["email.send"], concurrency=4
        )

    return start


@pytest.fixture
def worker_process(runtime: Runtime, tenant: TenantKit) -> ProcessFactory:
    """Start ``tests/delivery/worker_process.py`` (the notification jobs, mailing to ``smtp_port``) in a
    process of its own; yields it once it is ready to claim, and kills it when the block ends.

    Other tenants' waiting notification jobs are set aside first: only this test's reach its servers.
    """

    @asynccontextmanager
    async def start(*, smtp_port: int) -> AsyncIterator[asyncio.subprocess.Process]:
        await set_aside_other_tenants_jobs(runtime.settings.database_url or "", tenant.id)
        env = {
            **os.environ,
            "FIELDHUB_DATABASE_URL": runtime.settings.database_url or "",
            "FIELDHUB_SMTP_URL": f"smtp://127.0.0.1:{smtp_port}",
            "FIELDHUB_SECRET_KEY": runtime.settings.resolved_secret_key(),
        }
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "tests.delivery.worker_process", env=env, cwd=ROOT, stdout=asyncio.subprocess.PIPE
        )
        try:
            assert process.stdout is not None
            ready = await asyncio.wait_for(process.stdout.readline(), 60)
            assert ready.strip() == b"ready", ready
            yield process
        finally:
            if process.returncode is None:
                process.kill()
            await process.wait()

    return start
