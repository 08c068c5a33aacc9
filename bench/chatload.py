"""A chat load-generator process: every member socket of some conversations, sending and timing chat messages.

Holds every member of its conversations, so both ends of each message are timed on this process's
clock. Driven over stdin/stdout like ``bench.loadgen``: prints ``ready``, waits for ``go``, sends,
waits for the acks and deliveries (bounded), prints one JSON line, waits for ``stop``.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import sys
import time
from pathlib import Path

import msgspec
import uvloop
from picows import WSFrame, WSListener, WSMsgType, WSTransport, ws_connect

CONNECT_CONCURRENCY = 50
DRAIN_TIMEOUT_S = 15.0
PONG = b'{"type":"pong"}'


class Spec(msgspec.Struct):
    """What the orchestrator hands one process: its conversations and their members' tokens."""

    url: str
    conversation_ids: list[str]
    tokens: list[list[str]]
    """``tokens[c][j]``: bearer token of member ``j`` of conversation ``c``."""


class MessageRef(msgspec.Struct):
    client_id: str


class ChatEvent(msgspec.Struct):
    kind: str
    message: MessageRef | None = None


class Incoming(msgspec.Struct):
    type: str
    ref: str | None = None
    event: ChatEvent | None = None
    code: str | None = None


_decode = msgspec.json.Decoder(Incoming).decode


class Stats:
    """Send times by ``client_id``, latency histograms in 0.1 ms buckets, counts."""

    def __init__(self) -> None:
        self.sent_at: dict[str, float] = {}
        self.ack = collections.Counter[int]()
        self.delivery = collections.Counter[int]()
        self.acked = 0
        self.refused: collections.Counter[str] = collections.Counter()
        self.delivered = 0
        self.duplicates = 0
        self.finished = asyncio.Event()
        self.expected: tuple[int, int] | None = None
        """Acks (or refusals) and deliveries to wait for, known once every message is sent."""

    def check(self) -> None:
        if self.expected is None:
            return
        answers, deliveries = self.expected
        if self.acked + sum(self.refused.values()) >= answers and self.delivered >= deliveries:
            self.finished.set()


class Member(WSListener):  # type: ignore[misc]
    """One member's socket: times acks of its own sends and deliveries of the others' messages."""

    def __init__(self, stats: Stats) -> None:
        self.stats = stats
        self.hello = asyncio.get_running_loop().create_future()
        self.own: set[str] = set()
        self.seen: set[str] = set()
        self.closed = False

    def on_ws_frame(self, transport: WSTransport, frame: WSFrame) -> None:
        if frame.msg_type == WSMsgType.CLOSE:
            self.closed = True
            transport.disconnect()
            return
        if frame.msg_type != WSMsgType.TEXT:
            return
        now = time.perf_counter()
        incoming = _decode(frame.get_payload_as_bytes())
        stats = self.stats
        if incoming.type == "event":
            message = incoming.event.message if incoming.event else None
            if message is None or message.client_id in self.own:
                return
            sent = stats.sent_at.get(message.client_id)
            if sent is None:
                return
            if message.client_id in self.seen:
                stats.duplicates += 1
                return
            self.seen.add(message.client_id)
            stats.delivered += 1
            stats.delivery[int((now - sent) * 10_000)] += 1
        elif incoming.type == "ack" and incoming.ref is not None:
            stats.acked += 1
            stats.ack[int((now - stats.sent_at[incoming.ref]) * 10_000)] += 1
        elif incoming.type in ("refused", "error"):
            stats.refused[incoming.code or incoming.type] += 1
        else:
            self._control(transport, incoming)
            return
        stats.check()

    def _control(self, transport: WSTransport, incoming: Incoming) -> None:
        if incoming.type == "ping":
            transport.send(WSMsgType.TEXT, PONG)
        elif incoming.type == "hello" and not self.hello.done():
            self.hello.set_result(None)

    def on_ws_disconnected(self, transport: WSTransport) -> None:
        self.closed = True


async def _line() -> str:
    return await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)


async def run(spec: Spec, name: str, rate: float, seconds: float, body_bytes: int) -> None:
    stats = Stats()
    gate = asyncio.Semaphore(CONNECT_CONCURRENCY)
    rooms: list[list[tuple[WSTransport, Member]]] = [[] for _ in spec.conversation_ids]

    async def connect(c: int, token: str) -> tuple[WSTransport, Member]:
        async with gate:
            transport, member = await ws_connect(
                lambda: Member(stats),
                spec.url,
                extra_headers={"Authorization": f"Bearer {token}"},
                max_frame_size=1 << 20,
            )
            await asyncio.wait_for(member.hello, 30)
            return transport, member

    for c, tokens in enumerate(spec.tokens):
        rooms[c] = list(await asyncio.gather(*(connect(c, token) for token in tokens)))
    print("ready", flush=True)
    await _line()
    encoder = msgspec.json.Encoder()
    filler = "shelf 4 restocked, facings fixed, photo sent " * (body_bytes // 45 + 1)
    total = int(rate * seconds)
    start = time.perf_counter()
    for number in range(total):
        # Paced against the clock, not by sleeping a fixed step, so send time does not add up.
        delay = start + number / rate - time.perf_counter()
        if delay > 0.001:
            await asyncio.sleep(delay)
        c = number % len(rooms)
        transport, member = rooms[c][(number // len(rooms)) % len(rooms[c])]
        client_id = f"{name}-{number}"
        member.own.add(client_id)
        frame = {
            "type": "send",
            "ref": client_id,
            "conversation_id": spec.conversation_ids[c],
            "client_id": client_id,
            "body": f"{number} {filler}"[:body_bytes],
        }
        stats.sent_at[client_id] = time.perf_counter()
        transport.send(WSMsgType.TEXT, encoder.encode(frame))
    elapsed = time.perf_counter() - start
    expected = sum(len(rooms[n % len(rooms)]) - 1 for n in range(total))
    stats.expected = (total, expected)
    stats.check()
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stats.finished.wait(), DRAIN_TIMEOUT_S)
    result = {
        "sent": total,
        "elapsed": elapsed,
        "acked": stats.acked,
        "refused": dict(stats.refused),
        "expected_deliveries": expected,
        "delivered": stats.delivered,
        "duplicates": stats.duplicates,
        "closed": sum(member.closed for room in rooms for _, member in room),
        "ack": dict(stats.ack),
        "delivery": dict(stats.delivery),
    }
    print(msgspec.json.encode(result).decode(), flush=True)
    await _line()
    for room in rooms:
        for transport, _ in room:
            transport.disconnect()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--spec", required=True, help="JSON file of a Spec")
    parser.add_argument("--name", required=True, help="prefix of this process's client ids")
    parser.add_argument("--rate", type=float, required=True, help="messages per second from this process")
    parser.add_argument("--seconds", type=float, required=True)
    parser.add_argument("--body-bytes", type=int, default=100)
    args = parser.parse_args()
    spec = msgspec.json.decode(Path(args.spec).read_bytes(), type=Spec)
    if not spec.url.startswith("ws://127.0.0.1:"):
        raise SystemExit("benchmarks run only against 127.0.0.1")
    uvloop.run(run(spec, args.name, args.rate, args.seconds, args.body_bytes))


if __name__ == "__main__":
    main()
