"""Load-generator processes: ``receive`` (many sockets counting events) and ``send`` (one sender per room).

Driven over stdin/stdout: each prints ``ready``, waits for ``go`` or ``stop``, and prints one JSON line of results.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import random
import sys
import time

import msgspec
import uvloop
from picows import WSError, WSFrame, WSListener, WSMsgType, WSTransport, ws_connect

CONNECT_CONCURRENCY = 100
RETRY_FIRST_S = 0.2
RETRY_MAX_S = 2.0


class BenchEvent(msgspec.Struct):
    id: int
    room: int
    t: float


class Incoming(msgspec.Struct):
    type: str
    event: BenchEvent | None = None
    topic: str | None = None
    seq: int | None = None
    resume: str | None = None


_decode = msgspec.json.Decoder(Incoming).decode
PONG = b'{"type":"pong"}'


class Receiver(WSListener):  # type: ignore[misc]
    """Counts events per socket; answers pings; remembers the last ``seq`` per topic for resuming."""

    def __init__(self, stats: Stats, seen: dict[int, int] | None = None) -> None:
        self.stats = stats
        self.hello = asyncio.get_running_loop().create_future()
        self.gone = asyncio.get_running_loop().create_future()
        self.seen: dict[int, int] = {} if seen is None else seen
        self.last_seq: dict[str, int] = {}
        self.duplicates = 0
        self.unrecovered = 0
        self.closed = False

    def on_ws_frame(self, transport: WSTransport, frame: WSFrame) -> None:
        if frame.msg_type == WSMsgType.CLOSE:
            self._lost(transport)
            return
        if frame.msg_type != WSMsgType.TEXT:
            return
        message = _decode(frame.get_payload_as_bytes())
        event = message.event
        if event is not None:
            self.stats.latency[int((time.time() - event.t) * 10_000)] += 1
            if message.topic is not None and message.seq is not None:
                self.last_seq[message.topic] = max(message.seq, self.last_seq.get(message.topic, 0))
            if event.id in self.seen:
                self.duplicates += 1
            else:
                self.seen[event.id] = 1
        elif message.type == "ping":
            transport.send(WSMsgType.TEXT, PONG)
        elif message.type == "hello" and not self.hello.done():
            self.hello.set_result(None)
        elif message.type == "subscribed" and message.resume not in (None, "recovered"):
            self.unrecovered += 1

    def on_ws_disconnected(self, transport: WSTransport) -> None:
        self._lost(transport)

    def _lost(self, transport: WSTransport) -> None:
        self.closed = True
        transport.disconnect()
        if not self.gone.done():
            self.gone.set_result(None)


class Stats:
    """Latency histogram in 0.1 ms buckets."""

    def __init__(self) -> None:
        self.latency: collections.Counter[int] = collections.Counter()


async def _open(url: str, token: str, factory: object) -> tuple[WSTransport, WSListener]:
    return await ws_connect(factory, f"{url}?ticket={token}", max_frame_size=1 << 20)  # type: ignore[no-any-return]


async def _line() -> str:
    return await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)


class Client:
    """One receiving user: a socket, and with ``resume`` a new one on the next node when it drops."""

    def __init__(self, index: int, urls: list[str], stats: Stats, *, resume: bool) -> None:
        self.index = index
        self.urls = urls
        self.stats = stats
        self.resume = resume
        self.seen: dict[int, int] = {}
        self.duplicates = 0
        self.resumes = 0
        self.failed_attempts = 0
        self.listener: Receiver | None = None
        self.transport: WSTransport | None = None

    async def connect(self, attempt: int = 0) -> None:
        url = self.urls[(self.index + attempt) % len(self.urls)]
        previous = self.listener
        transport, listener = await _open(
            url, f"b{self.index}.bench.r{self.index}-{attempt}", lambda: Receiver(self.stats, self.seen)
        )
        await asyncio.wait_for(listener.hello, 30)
        if previous is not None:
            listener.last_seq = previous.last_seq
            listener.duplicates = previous.duplicates
            listener.unrecovered = previous.unrecovered
            for topic, seq in previous.last_seq.items():
                transport.send(WSMsgType.TEXT, _encode({"type": "subscribe", "topic": topic, "since": seq}))
        self.listener, self.transport = listener, transport

    async def keep_connected(self) -> None:
        """Reconnect to the next node (and resume every topic) whenever the socket drops; a failed
        attempt (a node too busy to finish the handshake in time) is retried with backoff, as the
        browser client does."""
        attempt = 0
        while self.resume and self.listener is not None:
            await self.listener.gone
            self.resumes += 1
            backoff = RETRY_FIRST_S
            while True:
                attempt += 1
                try:
                    await self.connect(attempt)
                    break
                except (OSError, TimeoutError, WSError):
                    self.failed_attempts += 1
                    await asyncio.sleep(backoff * random.uniform(0.5, 1.0))
                    backoff = min(backoff * 2, RETRY_MAX_S)

    def report(self) -> dict[str, object]:
        listener = self.listener
        return {
            "user": self.index,
            "unique": len(self.seen),
            "dups": listener.duplicates if listener else 0,
            "closed": bool(listener and listener.closed),
            "resumes": self.resumes,
            "failed_attempts": self.failed_attempts,
            "unrecovered": listener.unrecovered if listener else 0,
        }


_encode = msgspec.json.Encoder().encode


async def receive(urls: list[str], first: int, count: int, *, resume: bool) -> None:
    stats = Stats()
    gate = asyncio.Semaphore(CONNECT_CONCURRENCY)
    clients = [Client(index, urls, stats, resume=resume) for index in range(first, first + count)]

    async def one(client: Client) -> None:
        async with gate:
            await client.connect()

    await asyncio.gather(*(one(client) for client in clients))
    watchers = [asyncio.create_task(client.keep_connected()) for client in clients]
    print("ready", flush=True)
    await _line()
    for watcher in watchers:
        watcher.cancel()
    sockets = [client.report() for client in clients]
    print(msgspec.json.encode({"sockets": sockets, "latency": dict(stats.latency)}).decode(), flush=True)
    for client in clients:
        if client.transport is not None:
            client.transport.disconnect()


class Sender(WSListener):  # type: ignore[misc]
    def __init__(self) -> None:
        self.hello = asyncio.get_running_loop().create_future()

    def on_ws_frame(self, transport: WSTransport, frame: WSFrame) -> None:
        if frame.msg_type == WSMsgType.TEXT:
            payload = frame.get_payload_as_bytes()
            if b'"hello"' in payload and not self.hello.done():
                self.hello.set_result(None)
            elif b'"ping"' in payload:
                transport.send(WSMsgType.TEXT, PONG)


async def send(urls: list[str], rooms: int, rate: float, seconds: float) -> None:
    senders: list[WSTransport] = []
    for room in range(rooms):
        transport, listener = await _open(urls[room % len(urls)], f"s{room}.bench.x{room}", Sender)
        await asyncio.wait_for(listener.hello, 30)
        senders.append(transport)
    print("ready", flush=True)
    await _line()
    encoder = msgspec.json.Encoder()
    sent = [0] * rooms
    body = "x" * 60  # with the envelope, a chat-like event of about 100 bytes
    start = time.monotonic()
    total = int(rate * seconds)
    for number in range(total):
        # Paced against the clock, not by sleeping a fixed step, so send time does not add up.
        due = start + number / rate
        delay = due - time.monotonic()
        if delay > 0.001:
            await asyncio.sleep(delay)
        room = number % rooms
        sent[room] += 1
        frame = {"type": "send", "room": room, "id": sent[room], "t": time.time(), "body": body}
        senders[room].send(WSMsgType.TEXT, encoder.encode(frame))
    print(msgspec.json.encode({"sent": sent, "elapsed": time.monotonic() - start}).decode(), flush=True)
    await _line()
    for transport in senders:
        transport.disconnect()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("role", choices=["receive", "send"])
    parser.add_argument("--urls", required=True)
    parser.add_argument("--first", type=int, default=0)
    parser.add_argument("--count", type=int, default=0)
    parser.add_argument("--rooms", type=int, default=50)
    parser.add_argument("--rate", type=float, default=0)
    parser.add_argument("--seconds", type=float, default=0)
    parser.add_argument("--resume", action="store_true", help="reconnect to the next node and resume on a drop")
    args = parser.parse_args()
    urls = args.urls.split(",")
    if args.role == "receive":
        uvloop.run(receive(urls, args.first, args.count, resume=args.resume))
    else:
        uvloop.run(send(urls, args.rooms, args.rate, args.seconds))


if __name__ == "__main__":
    main()
