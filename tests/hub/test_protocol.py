"""The frame protocol on one node: hello, errors with stable codes, size and rate limits, handlers."""

from __future__ import annotations

import asyncio
import contextlib
import json

import websockets


async def test_hello_names_connection_user_heartbeat_and_limits(connect, node_a, ns):
    client = await connect(node_a, f"u1.{ns}.s1")
    hello = client.hello
    assert hello["user_id"] == "u1"
    assert hello["connection_id"]
    assert hello["heartbeat_interval_ms"] == 1000
    assert hello["limits"]["max_frame_bytes"] == 65536
    assert hello["topics"] == [f"t:{ns}:user:u1"]


async def test_unknown_frame_type_answers_unknown_type_with_ref(connect, node_a, ns):
    client = await connect(node_a, f"u1.{ns}.s1")
    await client.send({"type": "teleport", "ref": "r1"})
    error = await client.expect(lambda f: f["type"] == "error")
    assert (error["code"], error["ref"]) == ("unknown_type", "r1")


async def test_frame_with_wrong_field_types_answers_invalid_frame_and_stays_open(connect, node_a, ns):
    client = await connect(node_a, f"u1.{ns}.s1")
    await client.send({"type": "subscribe", "ref": "r2", "topic": 42})
    error = await client.expect(lambda f: f["type"] == "error")
    assert (error["code"], error["ref"]) == ("invalid_frame", "r2")
    await client.send({"type": "ping", "ref": "after"})
    await client.expect(lambda f: f["type"] == "pong" and f.get("ref") == "after")


async def test_non_json_text_answers_invalid_frame(connect, node_a, ns):
    client = await connect(node_a, f"u1.{ns}.s1")
    await client.ws.send("this is not json")
    error = await client.expect(lambda f: f["type"] == "error")
    assert error["code"] == "invalid_frame"


async def test_frame_over_size_limit_closes_with_1009(connect, node_a, ns):
    client = await connect(node_a, f"u1.{ns}.s1")
    await client.send({"type": "ping", "pad": "x" * 70_000})
    assert await client.closed() == 1009
    assert any(f["type"] == "error" and f["code"] == "too_large" for f in client.frames)


async def test_flood_answers_rate_limited_with_retry_after(connect, node_a, ns):
    client = await connect(node_a, f"u1.{ns}.s1")
    for i in range(60):
        await client.send({"type": "ping", "ref": str(i)})
    error = await client.expect(lambda f: f["type"] == "error")
    assert error["code"] == "rate_limited"
    assert 0 < error["retry_after"] <= 1
    pongs = [f for f in client.frames if f["type"] == "pong"]
    assert len(pongs) < 60


async def test_rate_limited_socket_is_served_again_after_retry_after(connect, node_a, ns):
    client = await connect(node_a, f"u1.{ns}.s1")
    for i in range(60):
        await client.send({"type": "ping", "ref": str(i)})
    error = await client.expect(lambda f: f["type"] == "error" and f["code"] == "rate_limited")
    await asyncio.sleep(error["retry_after"] + 0.2)  # the documented wait, not a guess
    await client.send({"type": "ping", "ref": "later"})
    await client.expect(lambda f: f["type"] == "pong" and f.get("ref") == "later")


async def test_registered_handler_replies_with_the_frame_ref(connect, node_a, ns):
    client = await connect(node_a, f"u7.{ns}.s1")
    await client.send({"type": "echo", "ref": "e1", "text": "hello"})
    reply = await client.expect(lambda f: f["type"] == "echoed")
    assert reply == {"type": "echoed", "ref": "e1", "text": "hello", "user_id": "u7"}


async def test_failing_handler_answers_unavailable_and_socket_stays_open(connect, node_a, ns):
    client = await connect(node_a, f"u1.{ns}.s1")
    await client.send({"type": "explode", "ref": "x1"})
    error = await client.expect(lambda f: f["type"] == "error")
    assert (error["code"], error["ref"]) == ("unavailable", "x1")
    await client.send({"type": "echo", "ref": "e2", "text": "still here"})
    await client.expect(lambda f: f["type"] == "echoed")


async def test_silent_client_is_closed_with_4009_after_heartbeat_timeout(connect, node_a, ns):
    client = await connect(node_a, f"u1.{ns}.s1", answer_pings=False)
    assert await client.closed(within=6) == 4009


async def test_client_answering_pings_outlives_heartbeat_timeout(connect, node_a, ns):
    client = await connect(node_a, f"u1.{ns}.s1")
    await client.expect(lambda f: f["type"] == "ping")
    await asyncio.sleep(3.5)  # longer than the 3 s timeout: the socket must still be open
    await client.send({"type": "ping", "ref": "alive"})
    await client.expect(lambda f: f["type"] == "pong" and f.get("ref") == "alive")


async def test_binary_json_frames_are_accepted(connect, node_a, ns):
    client = await connect(node_a, f"u1.{ns}.s1")
    await client.ws.send(json.dumps({"type": "ping", "ref": "bin"}).encode())
    await client.expect(lambda f: f["type"] == "pong" and f.get("ref") == "bin")


async def test_permessage_deflate_is_not_negotiated(node_a, ns):
    async with websockets.connect(node_a.ws, additional_headers={"Authorization": f"Bearer u1.{ns}.s1"}) as ws:
        assert ws.response.headers.get("Sec-WebSocket-Extensions") is None


async def test_socket_whose_setup_fails_is_closed_with_1011_and_others_stay(connect, node_a, ns):
    healthy = await connect(node_a, f"u1.{ns}.s1")
    async with websockets.connect(node_a.ws, additional_headers={"Authorization": f"Bearer broken.{ns}.s2"}) as ws:
        with contextlib.suppress(websockets.ConnectionClosed):
            while True:
                await ws.recv()
    assert ws.close_code == 1011
    await healthy.send({"type": "ping", "ref": "still"})
    await healthy.expect(lambda f: f["type"] == "pong" and f.get("ref") == "still")
