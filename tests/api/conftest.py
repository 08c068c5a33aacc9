"""Fixtures of the API tests: ``serve --workers 2`` as a real process."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from api.settings import Settings
from tests.nodes import ROOT
from tests.serving import TwoWorkers, free_port


@pytest.fixture
def two_worker_server(settings: Settings, tmp_path: Path) -> Iterator[TwoWorkers]:
    port = free_port()
    env = {
        **os.environ,
        "FIELDHUB_DATABASE_URL": settings.database_url or "",
        "FIELDHUB_REDIS_URL": settings.redis_url or "",
        "FIELDHUB_SECRET_KEY": settings.secret_key or "",
        "FIELDHUB_DATA_DIR": str(tmp_path),
        "FIELDHUB_LOG_LEVEL": "WARNING",
    }
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "api.cli", "serve", "--port", str(port), "--workers", "2"], env=env, cwd=ROOT
    )
    try:
        yield TwoWorkers(port=port, pid=process.pid)
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
