"""Frames written straight to uvicorn's transport: framed as websockets parses them, in order around
flow control, built once for every socket of a topic, and only where it is safe."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from uvicorn.config import Config
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from uvicorn.server import ServerState
from websockets.frames import Frame, Opcode
from websockets.protocol import OPEN, Protocol, Side

from hub.fanout import Fanout, pack
from hub.memory_broker import MemoryBroker
from hub.wire import direct_writer, text_frame
from tests.hub.parked import parked


class RecordingTransport(asyncio.Transport):
    """Keeps every write, as bytes objects, in order."""

    def __init__(self) -> None:
        super().__init__()
        self.written: list[bytes] = []

    def write(self, data: Any) -> None:
        self.written.append(data)

    def is_closing(self) -> bool:
        return False


async def _unused_app(scope: Any, receive: Any, send: Any) -> None:
    raise AssertionError("not served")


def _accepted_protocol() -> tuple[WebSocketsSansIOProtocol, RecordingTransport]:
    """uvicorn's protocol object for one socket as it is after the handshake, on a recording transport."""
    config = Config(app=_unused_app, ws="websockets-sansio", ws_per_message_deflate=False, log_config=None)
    protocol = WebSocketsSansIOProtocol(config, ServerState(), {})
    transport = RecordingTransport()
    protocol.transport = transport
    protocol.conn.state = OPEN
    protocol.handshake_complete = True
    return protocol, transport


def _texts(written: list[bytes]) -> list[str]:
    """What a browser would read from these bytes: the text of each frame, parsed by websockets."""
    client = Protocol(Side.CLIENT, max_size=None)  # an open connection's frame parser, no handshake
    client.receive_data(b"".join(written))
    frames = [event for event in client.events_received() if isinstance(event, Frame)]
    assert all(frame.opcode is Opcode.TEXT and frame.fin for frame in frames)
    return [frame.data.decode() for frame in frames]


@pytest.mark.parametrize("size", [0, 1, 125, 126, 65_535, 65_536, 70_000])
def test_a_text_frame_of_every_length_form_parses_as_its_payload(size: int) -> None:
    payload = ("é" * (size // 2) + "x" * (size % 2)).encode()

    assert _texts([text_frame(payload)]) == [payload.decode()]


async def test_a_frame_sent_while_the_writer_is_parked_is_on_the_transport_before_send_returns() -> None:
    protocol, transport = _accepted_protocol()
    conn = await parked(protocol.send)

    conn.send('{"type":"pong"}')

    assert _texts(transport.written) == ['{"type":"pong"}']


async def test_frames_sent_while_the_transport_is_paused_follow_in_order_once_it_resumes() -> None:
    protocol, transport = _accepted_protocol()
    conn = await parked(protocol.send)
    conn.send("1")
    protocol.pause_writing()

    conn.send("2")
    conn.send("3")
    await asyncio.sleep(0)
    paused = _texts(transport.written)
    protocol.resume_writing()
    conn.send("4")  # writable again, but "2" and "3" are still queued: it must wait its turn
    await asyncio.sleep(0)  # the writer, woken by the resume, sends what was queued

    assert paused == ["1"]
    assert _texts(transport.written) == ["1", "2", "3", "4"]


async def test_an_event_is_framed_once_for_every_socket_of_its_topic() -> None:
    fanout = Fanout(broker=MemoryBroker())
    sockets = [_accepted_protocol() for _ in range(3)]
    for index, (protocol, _) in enumerate(sockets):
        await fanout.attach(await parked(protocol.send, f"c{index}"), "t:acme:room")

    fanout.dispatch("t:acme:room", pack(b'{"type":"event","n":1}', 7))

    written = [transport.written for _, transport in sockets]
    assert [_texts(frames) for frames in written] == [['{"type":"event","n":1}']] * 3
    assert written[0][0] is written[1][0] is written[2][0]


async def test_a_frame_sent_after_the_close_frame_is_never_written() -> None:
    protocol, transport = _accepted_protocol()
    conn = await parked(protocol.send)
    protocol.close_sent = True

    conn.send("late")
    await conn.wait_closed()  # the ASGI send refuses it and the writer ends

    assert transport.written == []


async def test_another_servers_send_gets_no_direct_writer() -> None:
    async def send(message: Any) -> None:
        return None

    assert direct_writer(send) is None
    assert direct_writer(None) is None


async def test_a_socket_with_a_negotiated_extension_gets_no_direct_writer() -> None:
    protocol, _ = _accepted_protocol()
    protocol.conn.extensions = [object()]  # type: ignore[list-item]

    assert direct_writer(protocol.send) is None


async def test_a_socket_before_its_handshake_gets_no_direct_writer() -> None:
    protocol, _ = _accepted_protocol()
    protocol.handshake_complete = False

    assert direct_writer(protocol.send) is None
