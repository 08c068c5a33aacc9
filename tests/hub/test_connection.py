"""A connection's write path: frames written at once while the writer is parked, in order when a write waits."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from hub.connection import Connection, State
from hub.fanout import Fanout, pack
from hub.memory_broker import MemoryBroker
from tests.hub.parked import parked


class Transport:
    """An ASGI ``send`` that, like uvicorn's, waits while the transport is paused, and records frames."""

    def __init__(self) -> None:
        self.writable = asyncio.Event()
        self.writable.set()
        self.gone = False
        self.broken = False
        self.sent: list[Any] = []

    async def send(self, message: Any) -> None:
        await self.writable.wait()
        if self.gone:
            raise OSError("client disconnected")
        if self.broken:
            raise ValueError("a server bug")
        self.sent.append(message.get("text") or message["type"])


@pytest.fixture
async def transport() -> Transport:
    return Transport()


@pytest.fixture
async def conn(transport: Transport) -> Connection:
    return await parked(transport.send)


async def test_a_frame_sent_while_the_writer_is_parked_is_written_before_send_returns(conn, transport) -> None:
    conn.send("a")
    conn.send("b")
    assert transport.sent == ["a", "b"]


async def test_a_write_that_waits_for_the_transport_is_finished_before_the_frames_queued_behind_it(
    conn, transport
) -> None:
    transport.writable.clear()
    for text in ("a", "b", "c"):
        conn.send(text)
    assert transport.sent == []
    transport.writable.set()
    conn.close(1000, "done")
    await conn.wait_closed()
    assert transport.sent == ["a", "b", "c", "websocket.close"]


async def test_a_client_gone_during_a_direct_write_stops_the_connection(conn, transport) -> None:
    transport.gone = True
    conn.send("a")
    assert conn.state is State.CLOSED
    conn.send("b")
    assert transport.sent == []


async def test_a_socket_whose_write_fails_does_not_stop_a_fan_out_to_the_others() -> None:
    fanout = Fanout(broker=MemoryBroker())
    broken, healthy = Transport(), Transport()
    broken.broken = True
    for index, transport in enumerate((broken, healthy)):
        await fanout.attach(await parked(transport.send, f"c{index}"), "t:acme:conv:1")
    fanout.dispatch("t:acme:conv:1", pack(b'{"type":"event"}'))
    assert healthy.sent == ['{"type":"event"}']
