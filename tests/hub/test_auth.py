"""Who may open a socket, and how sockets of revoked or expired sessions end."""

from __future__ import annotations

import contextlib
import time

import pytest
import websockets

from tests.kit import eventually


async def _refusal_status(url: str, **options) -> int:
    with pytest.raises(websockets.InvalidStatus) as refused:
        async with websockets.connect(url, **options):
            pass
    return refused.value.response.status_code


async def test_upgrade_without_credentials_is_refused_with_401(node_a):
    assert await _refusal_status(node_a.ws) == 401


async def test_upgrade_with_unknown_token_is_refused_with_401(node_a, ns):
    assert await _refusal_status(node_a.ws, additional_headers={"Authorization": f"Bearer bad.{ns}.s1"}) == 401


async def test_cookie_socket_from_foreign_origin_is_refused_with_403(node_a, ns):
    status = await _refusal_status(
        node_a.ws, additional_headers={"Cookie": f"fh_session=u1.{ns}.s1"}, origin="http://evil.example"
    )
    assert status == 403


async def test_cookie_socket_without_origin_is_refused_with_403(node_a, ns):
    assert await _refusal_status(node_a.ws, additional_headers={"Cookie": f"fh_session=u1.{ns}.s1"}) == 403


async def test_cookie_socket_from_allowed_origin_is_greeted(connect, node_a, ns):
    client = await connect(node_a, f"u1.{ns}.s1", via="cookie", origin="http://good.example")
    assert client.hello["user_id"] == "u1"


async def test_ticket_query_parameter_authenticates(connect, node_a, ns):
    client = await connect(node_a, f"u2.{ns}.s1", via="ticket")
    assert client.hello["user_id"] == "u2"


async def test_already_expired_session_is_refused(node_a, ns):
    token = f"u1.{ns}.s1.{int((time.time() - 5) * 1000)}"
    assert await _refusal_status(node_a.ws, additional_headers={"Authorization": f"Bearer {token}"}) == 401


async def test_socket_closes_with_4002_when_its_session_expires(connect, node_a, ns):
    client = await connect(node_a, f"u1.{ns}.s1.{int((time.time() + 1.5) * 1000)}")
    assert await client.closed(within=5) == 4002


async def test_revoked_session_closes_its_sockets_on_every_node(connect, http, node_a, node_b, ns):
    on_a = await connect(node_a, f"u1.{ns}.s-revoked")
    on_b = await connect(node_b, f"u1.{ns}.s-revoked")
    other_session = await connect(node_b, f"u1.{ns}.s-kept")
    response = await http.post(f"{node_a.http}/test/close_session", json={"session_id": "s-revoked"})
    assert response.status_code == 201
    assert await on_a.closed() == 4001
    assert await on_b.closed() == 4001
    await other_session.send({"type": "ping", "ref": "kept"})
    await other_session.expect(lambda f: f["type"] == "pong")


async def test_a_session_closed_on_one_node_reaches_the_session_listeners_of_every_node(http, node_a, node_b, ns):
    response = await http.post(f"{node_a.http}/test/close_session", json={"session_id": f"s-gone-{ns}"})
    assert response.status_code == 201

    async def heard_on_b() -> bool | None:
        return f"s-gone-{ns}" in (await http.get(f"{node_b.http}/test/closed_sessions")).json() or None

    await eventually(heard_on_b, timeout=5)
    assert f"s-gone-{ns}" in (await http.get(f"{node_a.http}/test/closed_sessions")).json()


async def test_socket_beyond_the_per_user_cap_is_closed_with_4029(connect, node_a, node_b, ns):
    for index in range(4):
        await connect(node_a if index % 2 else node_b, f"u1.{ns}.s{index}")
    extra = await connect_raw(node_a, f"u1.{ns}.s9")
    assert extra == 4029


async def connect_raw(node, token: str) -> int | None:
    async with websockets.connect(node.ws, additional_headers={"Authorization": f"Bearer {token}"}) as ws:
        with contextlib.suppress(websockets.ConnectionClosed):
            while True:
                await ws.recv()
        return ws.close_code
