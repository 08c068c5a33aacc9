"""The hub inside the app: sockets authenticate with a ticket, a Bearer token or the session cookie,
and a revoked session loses its sockets on another node."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import websockets
from litestar import Litestar
from litestar.testing import AsyncTestClient
from websockets.asyncio.client import ClientConnection

from api.settings import Settings
from tests.kit import TenantKit
from tests.nodes import AppNode, next_frame

ROOT = Path(__file__).resolve().parents[2]
ORIGIN = "http://127.0.0.1:8000"


@pytest.fixture(scope="module")
async def node(settings: Settings) -> AsyncIterator[AppNode]:
    started = AppNode(settings)
    try:
        await started.ready()
        yield started
    finally:
        started.stop()


async def _assert_refused(
    node: AppNode, query: str = "", headers: dict[str, str] | None = None, *, status: int = 401
) -> None:
    """The upgrade is answered ``status`` (401 unauthenticated, 403 bad origin) before any frame flows."""
    with pytest.raises(websockets.exceptions.InvalidStatus) as refused:
        await node.connect(query, headers)
    assert refused.value.response.status_code == status


async def _close_code(ws: ClientConnection) -> int | None:
    """Read until the server closes the socket; its close code."""
    with contextlib.suppress(websockets.exceptions.ConnectionClosed):
        async with asyncio.timeout(10):
            while True:
                await ws.recv()
    return ws.close_code


async def test_a_ticket_opens_one_socket_for_its_user(
    node: AppNode, client: AsyncTestClient[Litestar], tenant: TenantKit
) -> None:
    headers = await tenant.headers(client, "staff")
    ticket = (await client.post("/api/v1/auth/ws-ticket", headers=headers)).json()["ticket"]
    async with await node.connect(f"?ticket={ticket}") as ws:
        hello = await next_frame(ws, "hello")
        assert hello["user_id"] == str(tenant.users["staff"])
    await _assert_refused(node, f"?ticket={ticket}")


async def test_a_bearer_token_opens_a_socket(
    node: AppNode, client: AsyncTestClient[Litestar], tenant: TenantKit
) -> None:
    headers = await tenant.headers(client, "supervisor")
    async with await node.connect(headers=headers) as ws:
        assert (await next_frame(ws, "hello"))["user_id"] == str(tenant.users["supervisor"])


async def test_a_cookie_socket_needs_an_allowed_origin(
    node: AppNode, client: AsyncTestClient[Litestar], tenant: TenantKit
) -> None:
    token = await tenant.token(client, "staff")
    cookie = {"Cookie": f"fieldhub_session={token}"}
    await _assert_refused(node, headers={**cookie, "Origin": "https://evil.example"}, status=403)
    async with await node.connect(headers={**cookie, "Origin": ORIGIN}) as ws:
        assert (await next_frame(ws, "hello"))["user_id"] == str(tenant.users["staff"])


async def test_no_credentials_or_a_forged_ticket_are_refused(node: AppNode, tenant: TenantKit) -> None:
    await _assert_refused(node)
    await _assert_refused(node, f"?ticket={tenant.id.hex}.forged-ticket-forged-ticket")


async def test_logout_on_one_node_closes_the_socket_on_another(
    node: AppNode, client: AsyncTestClient[Litestar], tenant: TenantKit
) -> None:
    headers = await tenant.headers(client, "staff")
    async with await node.connect(headers=headers) as ws:
        await next_frame(ws, "hello")
        assert (await client.post("/api/v1/auth/logout", headers=headers)).status_code == 200
        assert await _close_code(ws) == 4001


async def test_a_stopping_node_tells_its_clients_to_reconnect_then_closes_with_1012(
    settings: Settings, client: AsyncTestClient[Litestar], tenant: TenantKit
) -> None:
    stopping = AppNode(settings)
    try:
        await stopping.ready()
        async with await stopping.connect(headers=await tenant.headers(client, "staff")) as ws:
            await next_frame(ws, "hello")
            stopping.process.terminate()
            assert (await next_frame(ws, "reconnect"))["reason"] == "shutdown"
            assert await _close_code(ws) == 1012
    finally:
        stopping.stop()
