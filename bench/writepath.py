"""``python -m bench.writepath``: CPU per delivery of the hub's fan-out and write path, in one process.

Broker message -> ``Fanout.dispatch`` -> each ``Connection`` (written at once, or queued for its
writer) -> uvicorn's own websockets-sansio protocol object, on a transport that counts frames
instead of writing them: straight to the transport (``hub.wire``), or with ``--asgi`` through the
server's ASGI ``send`` as ``HubApp`` keeps it (``writable.wait()``, websockets' ``send_text`` and
``data_to_send``). The socket write itself is left out.
CPU time (``time.process_time``), so the figure does not depend on what else the machine runs.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from typing import Any

import uvloop
from uvicorn.config import Config
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from uvicorn.server import ServerState
from websockets.protocol import OPEN

from hub import connection as connection_module
from hub.config import HubConfig
from hub.connection import Connection
from hub.endpoint import SERVER_SEND_KEY, HubWebSocket
from hub.fanout import Fanout, pack
from hub.hooks import Principal
from hub.memory_broker import MemoryBroker

PAYLOAD = b'{"id":1,"room":1,"t":1764100000.123456,"body":"' + b"x" * 60 + b'"}'


class CountingTransport(asyncio.Transport):
    """A transport that is always writable and counts the text frames written to it."""

    def __init__(self) -> None:
        super().__init__()
        self.frames = 0

    def write(self, data: Any) -> None:
        if data[:1] == b"\x81":
            self.frames += 1

    def is_closing(self) -> bool:
        return False


async def _unused_app(scope: Any, receive: Any, send: Any) -> None:
    raise AssertionError("the bench drives the protocol's send directly")


def _open_protocol(config: Config, state: ServerState) -> tuple[WebSocketsSansIOProtocol, CountingTransport]:
    """uvicorn's protocol object for one socket, as it is after the handshake."""
    protocol = WebSocketsSansIOProtocol(config, state, {})
    transport = CountingTransport()
    protocol.transport = transport
    protocol.conn.state = OPEN
    protocol.handshake_complete = True
    return protocol, transport


def _no_direct_writer(send: Any) -> None:
    """For ``--asgi``: every frame goes through the protocol's ASGI ``send``."""
    return


def _asgi_stack(raw: Any) -> HubWebSocket:
    async def capture_response_started(event: Any) -> None:
        # What Litestar's exception middleware wraps around every send of the app; HubApp puts the
        # server's own send in the scope, so frames skip it.
        if event["type"] == "http.response.start":
            pass
        await raw(event)

    async def receive() -> Any:
        return {"type": "websocket.connect"}

    scope = {"type": "websocket", SERVER_SEND_KEY: raw}
    socket = HubWebSocket(scope, receive, capture_response_started)  # type: ignore[arg-type]
    socket.connection_state = "connect"
    return socket


async def run(args: argparse.Namespace) -> dict[str, Any]:
    if args.asgi:
        connection_module.direct_writer = _no_direct_writer  # type: ignore[attr-defined]
    config = HubConfig(send_queue_size=100_000)
    server_config = Config(app=_unused_app, ws="websockets-sansio", ws_per_message_deflate=False, log_config=None)
    server_state = ServerState()
    fanout = Fanout(broker=MemoryBroker())
    transports: list[CountingTransport] = []
    connections: list[Connection] = []
    for index in range(args.connections):
        protocol, transport = _open_protocol(server_config, server_state)
        socket = _asgi_stack(protocol.send)
        conn = Connection(
            socket=socket,
            send=socket.raw_send,
            principal=Principal(user_id=f"b{index}", namespace="bench", session_id="s"),
            connection_id=str(index),
            config=config,
        )
        conn.start_writer()
        topic = f"t:bench:room:{index % args.rooms}"
        await fanout.attach(conn, topic)
        transports.append(transport)
        connections.append(conn)
    topics = [f"t:bench:room:{room}" for room in range(args.rooms)]
    expected = args.events * (args.connections // args.rooms)
    started = time.process_time()
    for number in range(args.events):
        room = number % args.rooms
        # Each room's own gap-free seq, as a chat conversation's, or none (bench.fanout's events).
        seq = number // args.rooms + 1 if args.durable else None
        frame = b'{"type":"event","topic":"%s","seq":%s,"event":%s}' % (
            topics[room].encode(),
            b"null" if seq is None else b"%d" % seq,
            PAYLOAD,
        )
        fanout.dispatch(topics[room], pack(frame, seq))
        if (number + 1) % args.burst == 0:
            await asyncio.sleep(0)  # let the writers run, as the loop does between broker reads
    for conn in connections:
        conn.close(1000, "done")  # after what is queued: waiting for the writers waits for every frame
    await asyncio.gather(*(conn.wait_closed() for conn in connections))
    used = time.process_time() - started
    if sum(transport.frames for transport in transports) != expected:
        raise RuntimeError("frames were lost on the way")
    return {
        "path": "asgi" if args.asgi else "direct",
        "connections": args.connections,
        "rooms": args.rooms,
        "events": args.events,
        "deliveries": expected,
        "cpu_us_per_delivery": round(used * 1e6 / expected, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--connections", type=int, default=1_000)
    parser.add_argument("--rooms", type=int, default=50)
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--durable", action="store_true", help="events carry their room's seq")
    parser.add_argument("--asgi", action="store_true", help="write through the ASGI send, not the transport")
    parser.add_argument("--burst", type=int, default=1, help="events dispatched between two loop iterations")
    args = parser.parse_args()
    print(json.dumps(uvloop.run(run(args))), flush=True)


if __name__ == "__main__":
    main()
