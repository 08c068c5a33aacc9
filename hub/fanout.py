"""Local fan-out: which sockets of this node listen to which topic, and one broker channel per topic."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING

from hub.observer import NOOP_OBSERVER
from hub.wire import text_frame

if TYPE_CHECKING:
    from hub.broker import Broker
    from hub.connection import Connection
    from hub.observer import HubObserver

log = logging.getLogger("hub.fanout")


def pack(frame: bytes, seq: int | None = None, *, published_us: int | None = None) -> bytes:
    """Wrap an encoded frame for the broker: ``b"<seq>\\n<frame>"`` (empty seq for ephemeral frames),
    with ``b",<published_us>"`` after the seq when the publish time (unix microseconds) is given.

    Example: ``pack(b'{"type":"event"}', 7)`` -> ``b'7\\n{"type":"event"}'``;
    ``pack(b'{}', 7, published_us=5)`` -> ``b'7,5\\n{}'``.
    """
    head = b"%d" % seq if seq is not None else b""
    if published_us is not None:
        head += b",%d" % published_us
    return head + b"\n" + frame


def now_us() -> int:
    """Wall-clock unix time in microseconds: publish stamps are compared across processes and nodes."""
    return time.time_ns() // 1000


class Fanout:
    """Maps topics to local connections and keeps the broker subscribed to exactly those topics.

    A message heard on a topic is decoded and framed once, and the same ``str`` and wire frame go
    to every local connection of that topic.
    """

    def __init__(self, *, broker: Broker, observer: HubObserver = NOOP_OBSERVER) -> None:
        self._broker = broker
        self._observer = observer
        self._members: dict[str, set[Connection]] = {}
        self._confirmed: dict[str, asyncio.Future[bool]] = {}
        self._pending: set[asyncio.Task[None]] = set()

    @property
    def topics(self) -> list[str]:
        """Topics with at least one local connection."""
        return list(self._members)

    async def attach(self, conn: Connection, topic: str) -> bool:
        """Add ``conn`` to ``topic``, subscribing the broker if it is the first local listener.

        Returns:
            ``True`` once the broker confirmed the subscription, so that anything published from now
            reaches ``conn``; ``False`` if the broker is unreachable (it subscribes on reconnect).
        """
        members = self._members.get(topic)
        if members is not None:
            members.add(conn)
            return await asyncio.shield(self._confirmed[topic])
        self._members[topic] = {conn}
        confirmed = self._confirmed[topic] = asyncio.get_running_loop().create_future()
        try:
            await self._broker.subscribe([topic])
        except ConnectionError:
            log.warning("broker unavailable while subscribing a topic; it resubscribes on reconnect")
            confirmed.set_result(False)
            return False
        confirmed.set_result(True)
        return True

    def mark_all_confirmed(self) -> None:
        """The broker reconnected and resubscribed every wanted topic."""
        loop = asyncio.get_running_loop()
        for topic, confirmed in self._confirmed.items():
            if confirmed.done() and not confirmed.result():
                fresh = loop.create_future()
                fresh.set_result(True)
                self._confirmed[topic] = fresh

    def detach(self, conn: Connection, topic: str) -> None:
        """Remove ``conn`` from ``topic``; the last one out unsubscribes the broker (in the background)."""
        members = self._members.get(topic)
        if members is None:
            return
        members.discard(conn)
        if not members:
            del self._members[topic]
            self._confirmed.pop(topic, None)
            task = asyncio.create_task(self._unsubscribe_if_unused(topic))
            self._pending.add(task)
            task.add_done_callback(self._pending.discard)

    async def _unsubscribe_if_unused(self, topic: str) -> None:
        # A socket may have attached again since; checking here is atomic with the broker's own
        # bookkeeping because nothing awaits in between.
        if topic in self._members:
            return
        try:
            await self._broker.unsubscribe([topic])
        except ConnectionError:
            log.debug("broker unavailable while unsubscribing; dropped on reconnect")

    def dispatch(self, topic: str, data: bytes) -> None:
        """Queue a broker message of ``topic`` (see :func:`pack`) on every local listener."""
        members = self._members.get(topic)
        if not members:
            return
        newline = data.find(b"\n")
        if newline < 0:
            log.warning("dropping malformed broker message")
            return
        head = data[:newline]
        comma = head.find(b",")
        published_us = None
        if comma >= 0:
            published_us = int(head[comma + 1 :])
            head = head[:comma]
        seq = int(head) if head else None
        payload = data[newline + 1 :]
        text = payload.decode()
        frame = text_frame(payload)
        for conn in members:
            conn.deliver(topic, seq, text, frame)
        self._observer.frames_sent("event", len(members))
        if published_us is not None:
            # One socket per message is timed (the last served): a sample, so the clock and the
            # histogram cost stay per message, not per delivery.
            conn.time_write(text, published_us)

    async def drain(self) -> None:
        """Wait for background unsubscribes to finish."""
        if self._pending:
            await asyncio.gather(*self._pending, return_exceptions=True)
