"""Fieldhub as a real server process for tests that need sockets and a second node, and a frame reader."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import websockets
from websockets.asyncio.client import ClientConnection

from api.settings import Settings

ROOT = Path(__file__).resolve().parents[1]


class AppNode:
    """``fieldhub serve`` as a separate process on a free port (a second node beside the test client's app)."""

    def __init__(self, settings: Settings, *, env: dict[str, str] | None = None) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        environment = {
            **os.environ,
            "FIELDHUB_DATABASE_URL": settings.database_url or "",
            "FIELDHUB_REDIS_URL": settings.redis_url or "",
            "FIELDHUB_SECRET_KEY": settings.secret_key or "",
            "FIELDHUB_DATA_DIR": settings.data_dir,
            "FIELDHUB_LOG_LEVEL": "WARNING",
            **(env or {}),
        }
        self.process = subprocess.Popen(
            [sys.executable, "-m", "api.cli", "serve", "--port", str(self.port)], env=environment, cwd=ROOT
        )

    async def ready(self) -> None:
        async with httpx.AsyncClient() as client, asyncio.timeout(30):
            while True:
                assert self.process.poll() is None, "the node exited"
                with contextlib.suppress(httpx.HTTPError):
                    if (await client.get(f"{self.url}/health/ready")).status_code == 200:
                        return
                await asyncio.sleep(0.1)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()

    async def connect(self, query: str = "", headers: dict[str, str] | None = None) -> ClientConnection:
        return await websockets.connect(
            f"ws://127.0.0.1:{self.port}/ws{query}", additional_headers=headers or {}, compression=None
        )


async def next_frame(ws: ClientConnection, kind: str) -> dict[str, Any]:
    async with asyncio.timeout(10):
        while True:
            frame = json.loads(await ws.recv())
            if frame["type"] == kind:
                return frame  # type: ignore[no-any-return]


async def frame_where(ws: ClientConnection, match: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    """The next frame for which ``match`` is true (others are skipped); fails after 10 s."""
    async with asyncio.timeout(10):
        while True:
            frame: dict[str, Any] = json.loads(await ws.recv())
            if match(frame):
                return frame


async def chat_events(ws: ClientConnection, topic: str, count: int) -> list[dict[str, Any]]:
    """The next ``count`` event frames of ``topic``."""
    events = []
    while len(events) < count:
        events.append(await frame_where(ws, lambda f: f["type"] == "event" and f["topic"] == topic))
    return events
