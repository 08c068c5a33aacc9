"""``/metrics`` moving with real traffic: HTTP by route template, sockets, frames, errors, chat acks,
fan-out timing and Redis state on a real node; the metrics token; ``serve --workers 2`` summing its processes."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from websockets.asyncio.client import ClientConnection

from api.app import create_app
from api.settings import Settings
from tests.api.metrics.scrape import sample, total
from tests.kit import TenantKit
from tests.nodes import ROOT, AppNode, chat_events, frame_where, next_frame


@pytest.fixture(scope="module")
async def node(settings: Settings) -> AsyncIterator[AppNode]:
    started = AppNode(settings)
    try:
        await started.ready()
        yield started
    finally:
        started.stop()


async def _scrape(port: int, headers: dict[str, str] | None = None) -> str:
    async with httpx.AsyncClient() as http:
        response = await http.get(f"http://127.0.0.1:{port}/metrics", headers=headers or {})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    return response.text


async def _socket(node: AppNode, client: AsyncTestClient[Litestar], tenant: TenantKit, role: str) -> ClientConnection:
    ws = await node.connect(headers=await tenant.headers(client, role))
    await next_frame(ws, "hello")
    return ws


async def test_http_requests_are_counted_under_their_route_template_never_the_raw_path(
    client: AsyncTestClient[Litestar],
) -> None:
    user_id = uuid.uuid4()
    template = "/api/v1/users/{user_id}"
    before = (await client.get("/metrics")).text
    for _ in range(3):
        assert (await client.get(f"/api/v1/users/{user_id}")).status_code == 401
    after = (await client.get("/metrics")).text
    counted = total(after, "fieldhub_http_requests_total", route=template, method="GET", status="401")
    assert counted - total(before, "fieldhub_http_requests_total", route=template, method="GET", status="401") == 3
    assert str(user_id) not in after
    timed = total(after, "fieldhub_http_request_duration_seconds_count", route=template, method="GET")
    assert timed >= 3


async def test_socket_traffic_moves_the_hub_and_chat_metrics(
    node: AppNode, client: AsyncTestClient[Litestar], tenant: TenantKit
) -> None:
    admin = await tenant.headers(client, "admin")
    members = [str(tenant.users["staff"]), str(tenant.users["supervisor"])]
    created = await client.post("/api/v1/conversations", json={"name": "metrics", "member_ids": members}, headers=admin)
    conversation_id = created.json()["id"]
    topic = f"t:{tenant.id}:conv:{conversation_id}"
    before = await _scrape(node.port)
    async with (
        await _socket(node, client, tenant, "staff") as sender,
        await _socket(node, client, tenant, "supervisor") as reader,
    ):
        during = await _scrape(node.port)
        assert (
            sample(during, "fieldhub_ws_connections_open") == (sample(before, "fieldhub_ws_connections_open") or 0) + 2
        )
        assert sample(during, "fieldhub_redis_pubsub_up") == 1
        for n in range(3):
            await sender.send(
                json.dumps(
                    {
                        "type": "send",
                        "ref": f"m{n}",
                        "conversation_id": conversation_id,
                        "client_id": f"m{n}",
                        "body": "stock counted",
                    }
                )
            )
            ack = await frame_where(sender, lambda f, n=n: f.get("ref") == f"m{n}")
            assert ack["type"] == "ack"
        await chat_events(reader, topic, 3)
        await sender.send("{not json")
        error = await next_frame(sender, "error")
        assert error["code"] == "invalid_frame"
        after = await _scrape(node.port)

    def grew(name: str, **labels: str) -> float:
        return total(after, name, **labels) - total(before, name, **labels)

    assert grew("fieldhub_ws_frames_received_total", type="send") == 3
    assert grew("fieldhub_ws_frames_received_total", type="invalid") == 1
    assert grew("fieldhub_ws_error_frames_total", code="invalid_frame") == 1
    assert grew("fieldhub_ws_frames_sent_total", type="hello") == 2
    assert grew("fieldhub_ws_frames_sent_total", type="ack") == 3
    # Each message reaches both members' sockets: 3 messages x 2 sockets.
    assert grew("fieldhub_ws_frames_sent_total", type="event") >= 6
    assert grew("fieldhub_chat_messages_sent_total") == 3
    assert grew("fieldhub_chat_send_ack_seconds_count") == 3
    assert grew("fieldhub_ws_fanout_latency_seconds_count") >= 3
    assert 0 < grew("fieldhub_ws_fanout_latency_seconds_sum") < 3 * 5.0
    assert sample(after, "fieldhub_db_pool_connections_max", pool="app") == 20


async def test_the_metrics_token_guards_the_scrape(settings: Settings) -> None:
    guarded = create_app(
        Settings(**{**{f: getattr(settings, f) for f in settings.__struct_fields__}, "metrics_token": "scrape-me"})
    )
    async with AsyncTestClient(app=guarded, base_url="http://127.0.0.1:8000") as http:
        assert (await http.get("/metrics")).status_code == 401
        assert (await http.get("/metrics", headers={"Authorization": "Bearer wrong"})).status_code == 401
        allowed = await http.get("/metrics", headers={"Authorization": "Bearer scrape-me"})
        assert allowed.status_code == 200
        assert "fieldhub_http_requests_total" in allowed.text


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def two_worker_server(settings: Settings, tmp_path: Path) -> Iterator[int]:
    port = _free_port()
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
        yield port
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


async def test_serve_with_two_workers_reports_every_process_in_one_scrape(
    two_worker_server: int, tmp_path: Path
) -> None:
    port = two_worker_server
    async with httpx.AsyncClient() as http, asyncio.timeout(60):
        while True:
            with contextlib.suppress(httpx.HTTPError):
                if (await http.get(f"http://127.0.0.1:{port}/health/live")).status_code == 200:
                    break
            await asyncio.sleep(0.2)
        # New connections each time: the kernel spreads them over both processes.
        for _ in range(40):
            async with httpx.AsyncClient() as fresh:
                assert (await fresh.get(f"http://127.0.0.1:{port}/health/live")).status_code == 200
    counted_files = list((tmp_path / "metrics").glob("counter_*.db"))
    assert len(counted_files) == 2, "each worker process counts into its own file"
    scrapes = [await _scrape(port) for _ in range(6)]
    for text in scrapes:
        # Whichever process answers, it reports the sum: the first probe plus 40.
        assert total(text, "fieldhub_http_requests_total", route="/health/live", status="200") >= 41
