"""Hub test fixtures: test nodes as uvicorn processes, a frame-collecting WebSocket client, namespaces."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets
from websockets.asyncio.client import ClientConnection

ROOT = Path(__file__).resolve().parents[2]
NODE_APP = Path(__file__).with_name("node_app.py")
Frame = dict[str, Any]


def free_port(below: int = 65536) -> int:
    while True:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        if port < below:
            return port


class Node:
    """One test node process (``node_app.py``) on its own port."""

    def __init__(
        self,
        *,
        redis_url: str,
        config: dict[str, Any] | None = None,
        broker: str = "redis",
        broker_url: str | None = None,
    ) -> None:
        self.port = free_port()
        self.redis_url = redis_url
        args = [sys.executable, str(NODE_APP), "--port", str(self.port), "--redis", redis_url, "--broker", broker]
        if broker_url:
            args += ["--broker-redis", broker_url]
        if config:
            args += ["--config", json.dumps(config)]
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        self.process = subprocess.Popen(args, env=env, cwd=ROOT)

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    def wait_ready(self, timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"node exited with {self.process.returncode}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.http}/test/health", timeout=1).status_code == 200:
                    return
            time.sleep(0.05)
        raise TimeoutError("node did not become ready")

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


class RedisServer:
    """A private redis-server a test may kill and restart on the same port."""

    def __init__(self) -> None:
        # Below 55536: a cluster node also listens on port + 10000.
        self.port = free_port(below=55536)
        self.folder = tempfile.mkdtemp(prefix="hub-redis-")
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, *extra: str) -> None:
        args = ["redis-server", "--port", str(self.port), "--save", "", "--appendonly", "no", "--dir", self.folder]
        args += extra
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            probe = subprocess.run(["redis-cli", "-p", str(self.port), "ping"], capture_output=True, check=False)
            if probe.stdout.strip() == b"PONG":
                return
            time.sleep(0.05)
        raise TimeoutError("redis-server did not start")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()


class HubClient:
    """A test client: collects every frame, answers the server's pings, remembers the close code."""

    def __init__(self, ws: ClientConnection, *, answer_pings: bool = True) -> None:
        self.ws = ws
        self.frames: list[Frame] = []
        self.hello: Frame = {}
        self._answer_pings = answer_pings
        self._changed = asyncio.Condition()
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        with contextlib.suppress(websockets.ConnectionClosed):
            async for raw in self.ws:
                frame = json.loads(raw)
                if frame["type"] == "ping" and self._answer_pings:
                    await self.ws.send('{"type":"pong"}')
                async with self._changed:
                    self.frames.append(frame)
                    self._changed.notify_all()
        async with self._changed:
            self._changed.notify_all()

    async def send(self, frame: Frame) -> None:
        await self.ws.send(json.dumps(frame))

    async def expect(self, match: Callable[[Frame], bool], within: float = 5.0) -> Frame:
        """The first frame received so far or later that ``match``es; fails after ``within`` seconds."""
        async with asyncio.timeout(within), self._changed:
            while True:
                for frame in self.frames:
                    if match(frame):
                        return frame
                if self._reader.done():
                    raise AssertionError(f"closed ({self.ws.close_code}) before an expected frame")
                await self._changed.wait()

    def events(self, topic: str) -> list[Frame]:
        return [f for f in self.frames if f["type"] == "event" and f["topic"] == topic]

    async def closed(self, within: float = 5.0) -> int | None:
        """Wait for the server to close; returns the close code."""
        async with asyncio.timeout(within):
            await asyncio.shield(self._reader)
        return self.ws.close_code

    async def aclose(self) -> None:
        await self.ws.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._reader, 2)


Connect = Callable[..., Any]


@pytest.fixture(scope="session")
def nodes(redis_url: str) -> Iterator[tuple[Node, Node]]:
    """Two nodes on the shared Redis, started once per run."""
    pair = (Node(redis_url=redis_url), Node(redis_url=redis_url))
    try:
        for node in pair:
            node.wait_ready()
        yield pair
    finally:
        for node in pair:
            node.stop()


@pytest.fixture
def private_redis() -> Iterator[RedisServer]:
    """A redis-server of this test alone, on a free port."""
    server = RedisServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def spawn_node() -> Iterator[Callable[..., Node]]:
    """``spawn_node(redis_url)`` -> a ready node of this test alone, killed at its end."""
    spawned: list[Node] = []

    def spawn(
        redis_url: str, config: dict[str, Any] | None = None, broker: str = "redis", broker_url: str | None = None
    ) -> Node:
        node = Node(redis_url=redis_url, config=config, broker=broker, broker_url=broker_url)
        spawned.append(node)
        node.wait_ready()
        return node

    yield spawn
    for node in spawned:
        node.stop(signal.SIGKILL)


@pytest.fixture
def node_a(nodes: tuple[Node, Node]) -> Node:
    return nodes[0]


@pytest.fixture
def node_b(nodes: tuple[Node, Node]) -> Node:
    return nodes[1]


@pytest.fixture
def ns() -> str:
    """A fresh namespace (tenant) per test, so tests share Redis without seeing each other."""
    return f"n{uuid.uuid4().hex[:12]}"


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=10) as client:
        yield client


@pytest.fixture
async def connect() -> AsyncIterator[Connect]:
    """``await connect(node, token, ...)`` -> a :class:`HubClient` that has read ``hello``."""
    clients: list[HubClient] = []

    async def open_client(
        node: Node,
        token: str,
        *,
        via: str = "bearer",
        origin: str | None = None,
        answer_pings: bool = True,
        **options: Any,
    ) -> HubClient:
        headers: dict[str, str] = {}
        url = node.ws
        if via == "bearer":
            headers["Authorization"] = f"Bearer {token}"
        elif via == "ticket":
            url = f"{url}?ticket={token}"
        else:
            headers["Cookie"] = f"fh_session={token}"
        ws = await websockets.connect(
            url,
            additional_headers=headers,
            origin=origin,  # type: ignore[arg-type]
            compression=None,
            **options,
        )
        client = HubClient(ws, answer_pings=answer_pings)
        client.hello = await client.expect(lambda f: f["type"] == "hello")
        clients.append(client)
        return client

    yield open_client
    for client in clients:
        await client.aclose()


@pytest.fixture(scope="session")
def redis_cluster() -> Iterator[str]:
    """A 3-primary Redis Cluster of this run (for sharded pub/sub); yields a seed URL."""
    servers = [RedisServer() for _ in range(3)]
    try:
        for server in servers:
            server.start("--cluster-enabled", "yes", "--cluster-config-file", f"{server.folder}/nodes.conf")
        addresses = [f"127.0.0.1:{server.port}" for server in servers]
        subprocess.run(
            ["redis-cli", "--cluster", "create", *addresses, "--cluster-yes"], check=True, capture_output=True
        )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            info = subprocess.run(
                ["redis-cli", "-p", str(servers[0].port), "cluster", "info"], capture_output=True, check=True
            )
            if b"cluster_state:ok" in info.stdout:
                break
            time.sleep(0.1)
        else:
            raise TimeoutError("cluster did not reach cluster_state:ok")
        yield servers[0].url
    finally:
        for server in servers:
            server.stop()
