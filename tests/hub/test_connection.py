"""A connection's write path: frames written at once while the writer is parked, in order when a write waits."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from hub.config import HubConfig
from hub.connection import Connection, State
from hub.fanout import Fanout, pack
from hub.hooks import Principal
from hub.memory_broker import MemoryBroker


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


async def _parked(transport: Transport, connection_id: str = "c1") -> Connection:
    """A connection whose writer is started and parked (nothing queued)."""
    connection = Connection(
        socket=None,  # type: ignore[arg-type]  (frames go through ``send``)
        send=transport.send,
        principal=Principal(user_id="u1", namespace="acme", session_id="s1"),
        connection_id=connection_id,
        config=HubConfig(),
    )
    connection.start_writer()
    await asyncio.sleep(0)  # the writer's first step: it finds nothing queued and parks
    return connection


@pytest.fixture
async def conn(transport: Transport) -> Connection:
    return await _parked(transport)


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
        await fanout.attach(await _parked(transport, f"c{index}"), "t:acme:conv:1")
    fanout.dispatch("t:acme:conv:1", pack(b'{"type":"event"}'))
    assert healthy.sent == ['{"type":"event"}']
