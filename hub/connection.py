"""One socket's server side: its topics, a bounded send queue drained by a writer task, seq cursors."""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import time
from collections import deque
from typing import TYPE_CHECKING, Any

from litestar.exceptions import WebSocketDisconnect

from hub import eager
from hub.frames import ServerFrame, encode_text
from hub.limits import TokenBucket
from hub.observer import NOOP_OBSERVER
from hub.wire import direct_writer, text_frame

if TYPE_CHECKING:
    from litestar.connection import WebSocket
    from litestar.types import Send

    from hub.config import HubConfig
    from hub.hooks import Principal
    from hub.observer import HubObserver
    from hub.wire import DirectWriter

log = logging.getLogger("hub.connection")

CLOSE_NORMAL = 1000
CLOSE_TOO_LARGE = 1009
CLOSE_INTERNAL = 1011
CLOSE_RESTART = 1012
CLOSE_SESSION_REVOKED = 4001
CLOSE_SESSION_EXPIRED = 4002
CLOSE_SLOW_CONSUMER = 4008
CLOSE_HEARTBEAT_TIMEOUT = 4009
CLOSE_TOO_MANY_CONNECTIONS = 4029


class State(enum.Enum):
    """``OPEN`` -> ``CLOSING`` (close requested, queue flushing or dropped) -> ``CLOSED``."""

    OPEN = "open"
    CLOSING = "closing"
    CLOSED = "closed"


# What an ASGI send raises once the client is gone (uvicorn's ClientDisconnected is an OSError).
_GONE = (WebSocketDisconnect, OSError, RuntimeError)

# Gaps wider than this in the live stream are not tracked one by one: a jump that large means the
# socket missed more than a replay can bring back (``max_replay``), and the client refetches.
_MAX_TRACKED_GAP = 1024


class _Cursor:
    """Seq bookkeeping of one topic on one socket: the live range delivered, the seqs missing inside
    it (events published out of order, or lost while Redis was away), and the dedupe floor.

    Tracking what is missing rather than what arrived keeps a busy socket's cost near zero: the
    set is empty unless events really arrived out of order.
    """

    __slots__ = ("first", "floor", "gaps", "high")

    def __init__(self) -> None:
        self.first: int | None = None
        self.high: int | None = None
        self.floor: int | None = None
        self.gaps: set[int] = set()

    def saw(self, seq: int) -> None:
        """Record ``seq`` as delivered."""
        if self.high is None or self.first is None:
            self.first = self.high = seq
        elif seq > self.high:
            if seq - self.high - 1 <= _MAX_TRACKED_GAP:
                self.gaps.update(range(self.high + 1, seq))
            self.high = seq
        elif seq < self.first:
            self.gaps.update(range(seq + 1, min(self.first, seq + 1 + _MAX_TRACKED_GAP)))
            self.first = seq
        else:
            self.gaps.discard(seq)

    def delivered(self, seq: int) -> bool:
        """Whether ``seq`` already reached the client."""
        if self.first is None or self.high is None:
            return False
        return self.first <= seq <= self.high and seq not in self.gaps


class Connection:
    """The hub's handle on one accepted socket.

    Frames are ready-made JSON text, so an event encoded once per node is shared by every socket.
    A frame sent while the writer task is idle is written at once by the caller; otherwise it is
    queued for the writer, in order. The queue is bounded: a socket that falls ``send_queue_size``
    frames behind is closed with 4008 (its client resumes), and never slows the others.
    """

    def __init__(
        self,
        *,
        socket: WebSocket[Any, Any, Any],
        send: Send | None = None,
        principal: Principal,
        connection_id: str,
        config: HubConfig,
        observer: HubObserver = NOOP_OBSERVER,
    ) -> None:
        self.socket = socket
        # Frames go out through the ASGI send itself when the endpoint gave it (see HubWebSocket);
        # chosen when the writer starts, as nothing is written before.
        self._raw_send = send
        self._send: Send
        # Under uvicorn's websockets-sansio server, frames are written to the transport directly.
        self._direct: DirectWriter | None = None
        self.principal = principal
        self.id = connection_id
        self.topics: set[str] = set()
        # Until its first topics are joined, a membership removed meanwhile must not be re-added
        # from the (older) subscription providers' answer.
        self.removed_early: set[str] | None = set()
        self.bucket = TokenBucket(burst=config.rate_limit_burst, per_second=config.rate_limit_per_s)
        self.last_heard = time.monotonic()
        self.state = State.OPEN
        self.close_code: int | None = None
        self._queue_size = config.send_queue_size
        self._replay_limit = config.replay_buffer_limit
        self._close_timeout = config.close_timeout_s
        self._buffer: deque[str] = deque()
        # Frames queued in one go by a replay: they do not count against the slow-consumer bound
        # (they are bounded by max_replay and replay_buffer_limit instead) until written.
        self._allowance = 0
        self._wake: asyncio.Future[None] | None = None
        self._close_reason = ""
        self._writer: asyncio.Task[None] | None = None
        # A frame written straight from send() whose ASGI send had to wait: the writer finishes it.
        self._pending: eager.Rest | None = None
        self._eager_text: str | None = None
        self._cursors: dict[str, _Cursor] = {}
        self._replaying: dict[str, list[tuple[int | None, str]]] = {}
        self._observer = observer
        # The one queued live frame being timed (publish -> socket write) and its publish stamp.
        self._timed_text: str | None = None
        self._timed_published_us = 0

    # --- queueing ------------------------------------------------------------------------------

    def start_writer(self) -> None:
        """Start the task that drains the send queue into the socket (once; later calls do nothing)."""
        if self._writer is not None:
            return
        self._send = self._raw_send or self.socket.send
        self._direct = direct_writer(self._raw_send)
        self._writer = asyncio.create_task(self._write_loop(), name=f"hub-writer-{self.id}")

    def send(self, text: str, frame: bytes | None = None) -> None:
        """Queue one JSON text frame; returns before it is written.

        ``frame`` is ``text`` already framed for the wire (:func:`hub.wire.text_frame`), when the
        caller built it once for many sockets. A full queue closes the socket with 4008 instead
        (the frame is dropped, the client resumes).
        """
        if self.state is not State.OPEN:
            return
        if len(self._buffer) - self._allowance >= self._queue_size:
            log.warning("slow consumer: closing connection %s (user %s) with 4008", self.id, self.principal.user_id)
            self._observer.slow_consumer_closed()
            self.close(CLOSE_SLOW_CONSUMER, "slow_consumer", flush=False)
            return
        wake = self._wake
        if wake is None or wake.done():
            self._buffer.append(text)  # the writer is busy (or not started): it drains the queue in order
        elif self._buffer or self._pending is not None:
            self._buffer.append(text)
            wake.set_result(None)
        elif self._direct is not None:
            self._write_direct(self._direct, text, frame, wake)
        else:
            self._write_now(text, wake)

    def _write_direct(self, direct: DirectWriter, text: str, frame: bytes | None, wake: asyncio.Future[None]) -> None:
        """Write ``text`` to the transport in the caller while the writer is parked with nothing
        queued; if the transport cannot take it now (paused, closing), the writer sends it in order."""
        if direct.write(frame if frame is not None else text_frame(text.encode())):
            self._eager_text = text
            if self._allowance:
                self._allowance -= 1
            return
        self._buffer.append(text)
        wake.set_result(None)

    def _write_now(self, text: str, wake: asyncio.Future[None]) -> None:
        """Write ``text`` in the caller while the writer is parked with nothing queued: no task switch
        per frame. If the ASGI send has to wait (the transport is paused), the writer finishes it."""
        try:
            rest = eager.start(self._send({"type": "websocket.send", "bytes": None, "text": text}))
        except _GONE:
            self.mark_closed()  # the client went away; the reader sees the disconnect and cleans up
            return
        except Exception:
            # Raised into a broker read that serves every socket: this one stops, the others go on.
            log.exception("writing to connection %s failed; it gets nothing more", self.id)
            self.mark_closed()
            return
        self._eager_text = text
        if self._allowance:
            self._allowance -= 1
        if rest is not None:
            self._pending = rest
            wake.set_result(None)

    def send_first(self, text: str) -> None:
        """Queue ``text`` ahead of everything queued so far (the greeting, before the writer starts)."""
        self._buffer.appendleft(text)

    def send_frame(self, frame: ServerFrame) -> None:
        """Encode and queue one server frame; see :meth:`send`."""
        self._observer.frame_sent(frame)
        self.send(encode_text(frame))

    def time_write(self, text: str, published_us: int) -> None:
        """Time ``text``, just queued by :meth:`deliver`, until the writer hands it to the socket.

        Does nothing while another frame is being timed or if ``text`` was not queued (a duplicate,
        or held during a replay), so at most one frame per socket is tracked.
        """
        if self._eager_text is text:
            self._observe_write(published_us)  # written (or handed to the server) in send() already
        elif self._timed_text is None and self._buffer and self._buffer[-1] is text:
            self._timed_text = text
            self._timed_published_us = published_us

    def _observe_write(self, published_us: int) -> None:
        self._observer.fanout_written(max(0, time.time_ns() // 1000 - published_us) / 1e6)

    def deliver(self, topic: str, seq: int | None, text: str, frame: bytes | None = None) -> None:
        """Queue a live frame of ``topic`` (``frame``: see :meth:`send`); buffered during a replay,
        dropped if already delivered."""
        replay_buffer = self._replaying.get(topic) if self._replaying else None
        if replay_buffer is not None:
            if len(replay_buffer) >= self._replay_limit:
                log.warning("replay buffer full: closing connection %s with 4008", self.id)
                self._observer.slow_consumer_closed()
                self.close(CLOSE_SLOW_CONSUMER, "slow_consumer", flush=False)
                return
            replay_buffer.append((seq, text))
            return
        if seq is not None:
            cursor = self._cursors.setdefault(topic, _Cursor())
            if (cursor.floor is not None and seq <= cursor.floor) or cursor.delivered(seq):
                return  # already sent, by the replay that set the floor or live
            cursor.saw(seq)
        self.send(text, frame)

    # --- replay --------------------------------------------------------------------------------

    def begin_replay(self, topic: str) -> None:
        """From now on, hold live frames of ``topic`` until :meth:`finish_replay` or :meth:`abort_replay`."""
        self._replaying.setdefault(topic, [])

    def abort_replay(self, topic: str) -> None:
        """Drop the held live frames of ``topic`` (the topic was refused)."""
        self._replaying.pop(topic, None)

    def finish_replay(self, topic: str, events: list[tuple[int, str]], since: int | None) -> int | None:
        """Send replayed ``events`` (ascending seq), then the held live frames, without duplicates.

        Replayed events this socket already got live are skipped; held live frames at or below the
        last replayed seq are dropped.

        Returns:
            The highest seq the client now has for ``topic`` (``None`` if unknown).
        """
        held = self._replaying.pop(topic, [])
        self._allowance += len(events) + len(held)
        cursor = self._cursors.setdefault(topic, _Cursor())
        floor = since
        replayed = 0
        for seq, text in events:
            if cursor.delivered(seq):
                continue
            self.send(text)
            replayed += 1
            cursor.saw(seq)
            floor = seq if floor is None or seq > floor else floor
        if replayed:
            self._observer.frames_sent("event", replayed)
        if cursor.high is not None and (floor is None or cursor.high > floor):
            floor = cursor.high
        cursor.floor = floor
        for held_seq, held_text in held:
            self.deliver(topic, held_seq, held_text)
        known = [s for s in (cursor.floor, cursor.high) if s is not None]
        return max(known) if known else None

    def forget_topic(self, topic: str) -> None:
        """Drop every per-topic state of ``topic``."""
        self.topics.discard(topic)
        self._cursors.pop(topic, None)
        self._replaying.pop(topic, None)

    # --- closing -------------------------------------------------------------------------------

    def close(self, code: int, reason: str, *, flush: bool = True) -> None:
        """Close the socket with ``code``; returns at once, the writer sends the close frame.

        Args:
            code: WebSocket close code (see ``docs/protocol.md``).
            reason: Short machine-readable reason, sent in the close frame.
            flush: Send what is queued first (``False`` drops it, for slow consumers).
        """
        if self.state is not State.OPEN:
            return
        self.state = State.CLOSING
        self.close_code = code
        self._close_reason = reason
        if not flush:
            self._buffer.clear()
        wake = self._wake
        if wake is not None and not wake.done():
            wake.set_result(None)

    async def wait_closed(self) -> None:
        """Wait (at most the close timeout) for the writer to finish, then cancel it."""
        writer = self._writer
        if writer is None:
            return
        done, _ = await asyncio.wait({writer}, timeout=self._close_timeout)
        if not done:
            writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await writer

    def mark_closed(self) -> None:
        """The socket is gone (client closed or the writer ended); stop queueing."""
        self.state = State.CLOSED
        self._buffer.clear()
        wake = self._wake
        if wake is not None and not wake.done():
            wake.set_result(None)

    async def _write_loop(self) -> None:
        buffer = self._buffer
        send = self._send
        loop = asyncio.get_running_loop()
        try:
            while True:
                if self._pending is not None:
                    await self._pending
                    self._pending = None
                while buffer:
                    text = buffer.popleft()
                    await send({"type": "websocket.send", "bytes": None, "text": text})
                    if self._allowance:
                        self._allowance -= 1
                    if text is self._timed_text:
                        self._timed_text = None
                        self._observe_write(self._timed_published_us)
                if self.state is not State.OPEN:
                    break
                self._wake = loop.create_future()
                await self._wake
                self._wake = None
            if self.state is State.CLOSING and self.close_code is not None:
                await send({"type": "websocket.close", "code": self.close_code, "reason": self._close_reason})
        except _GONE:
            # The client went away while we wrote; the reader sees the disconnect and cleans up.
            pass
        finally:
            self._wake = None
            self._pending = None
