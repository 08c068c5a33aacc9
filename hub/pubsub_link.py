"""One pub/sub connection to one Redis server: subscribe with confirmation, read, reconnect with backoff."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, Literal

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

if TYPE_CHECKING:
    from redis.asyncio import Redis
    from redis.asyncio.client import PubSub

log = logging.getLogger("hub.broker")

SubscribeMode = Literal["plain", "sharded"]
"""``plain``: SUBSCRIBE/PUBLISH; ``sharded``: SSUBSCRIBE/SPUBLISH (Redis 7 cluster)."""

_COMMANDS: dict[SubscribeMode, tuple[str, str, bytes, bytes]] = {
    "plain": ("SUBSCRIBE", "UNSUBSCRIBE", b"message", b"subscribe"),
    "sharded": ("SSUBSCRIBE", "SUNSUBSCRIBE", b"smessage", b"ssubscribe"),
}
_LOST = (RedisConnectionError, RedisTimeoutError, ConnectionError, OSError, asyncio.IncompleteReadError)
SUBSCRIBE_TIMEOUT_S = 5.0


class PubSubLink:
    """Keeps one Redis pub/sub connection subscribed to the channels wanted, come what may.

    The wanted set survives disconnects: after a reconnect every wanted channel is subscribed again
    before ``on_restored`` is called. Messages go to ``on_message`` in the order Redis sent them.
    """

    def __init__(
        self,
        *,
        redis: Redis,
        mode: SubscribeMode,
        on_message: Callable[[str, bytes], None],
        on_lost: Callable[[], None],
        on_restored: Callable[[], None],
        retry_max_s: float,
    ) -> None:
        self._redis = redis
        self._subscribe_cmd, self._unsubscribe_cmd, self._message_type, self._confirm_type = _COMMANDS[mode]
        self._sharded = mode == "sharded"
        self._on_message = on_message
        self._on_lost = on_lost
        self._on_restored = on_restored
        self._retry_max_s = retry_max_s
        self._wanted: set[str] = set()
        self._names: dict[bytes, str] = {}
        self._waiters: dict[str, list[asyncio.Future[None]]] = {}
        self._pubsub: PubSub | None = None
        self._connected = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def wanted(self) -> frozenset[str]:
        """The channels this link keeps subscribed (across reconnects)."""
        return frozenset(self._wanted)

    @property
    def connected(self) -> bool:
        """Whether the link is connected and every wanted channel is subscribed."""
        return self._connected.is_set()

    async def start(self, *, wait_s: float) -> None:
        """Start the reader and wait until it is connected.

        Raises:
            ConnectionError: If not connected within ``wait_s`` seconds (the link keeps trying).
        """
        self._task = asyncio.create_task(self._run(), name="hub-pubsub-link")
        try:
            await asyncio.wait_for(self._connected.wait(), wait_s)
        except TimeoutError as exc:
            raise ConnectionError("Redis pub/sub unreachable") from exc

    async def stop(self) -> None:
        """Stop reading and close the connection."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self._close_pubsub()

    async def subscribe(self, channels: Iterable[str]) -> None:
        """Want ``channels`` and wait for Redis to confirm them.

        Raises:
            ConnectionError: If disconnected or unconfirmed in time; the channels stay wanted and are
                subscribed on reconnect.
        """
        fresh = [c for c in channels if c not in self._wanted]
        if not fresh:
            if not self.connected:
                raise ConnectionError("Redis pub/sub disconnected")
            return
        self._wanted.update(fresh)
        for channel in fresh:
            self._names[channel.encode()] = channel
        pubsub = self._pubsub
        if pubsub is None or not self.connected:
            raise ConnectionError("Redis pub/sub disconnected")
        await self._send_subscribe(pubsub, fresh)

    async def unsubscribe(self, channels: Iterable[str]) -> None:
        """Stop wanting ``channels``; best effort while disconnected (a reconnect forgets them anyway)."""
        gone = [c for c in channels if c in self._wanted]
        if not gone:
            return
        self._wanted.difference_update(gone)
        for channel in gone:
            self._names.pop(channel.encode(), None)
        pubsub = self._pubsub
        if pubsub is not None and self.connected:
            with contextlib.suppress(*_LOST):
                for group in self._groups(gone):
                    await pubsub.execute_command(self._unsubscribe_cmd, *group)

    def _groups(self, channels: list[str]) -> list[list[str]]:
        # A sharded command may only name channels of one slot: one channel per command is simplest.
        return [[c] for c in channels] if self._sharded else [channels]

    async def _send_subscribe(self, pubsub: PubSub, channels: list[str]) -> None:
        loop = asyncio.get_running_loop()
        futures = []
        for channel in channels:
            future: asyncio.Future[None] = loop.create_future()
            self._waiters.setdefault(channel, []).append(future)
            futures.append(future)
        try:
            # Sent raw, not through PubSub.subscribe: redis-py must not resubscribe behind our back.
            for group in self._groups(channels):
                await pubsub.execute_command(self._subscribe_cmd, *group)
            await asyncio.wait_for(asyncio.gather(*futures), SUBSCRIBE_TIMEOUT_S)
        except (*_LOST, TimeoutError) as exc:
            for future in futures:
                future.cancel()
            raise ConnectionError("Redis pub/sub subscribe failed") from exc

    async def _close_pubsub(self) -> None:
        pubsub, self._pubsub = self._pubsub, None
        if pubsub is not None:
            with contextlib.suppress(Exception):
                await pubsub.aclose()  # type: ignore[no-untyped-call]

    def _fail_waiters(self) -> None:
        for waiters in self._waiters.values():
            for future in waiters:
                if not future.done():
                    future.set_exception(ConnectionError("Redis pub/sub disconnected"))
        self._waiters.clear()

    async def _run(self) -> None:
        delay = 0.05
        lost = False
        while True:
            reader: asyncio.Task[None] | None = None
            try:
                pubsub = self._redis.pubsub()
                self._pubsub = pubsub
                await pubsub.connect()  # type: ignore[no-untyped-call]
                reader = asyncio.create_task(self._read(pubsub))
                # Channels wanted while a batch was being confirmed were refused as "disconnected"
                # to their caller: they go out here too, until nothing is left (no await after it).
                sent: set[str] = set()
                while missing := self._wanted - sent:
                    await self._send_subscribe(pubsub, sorted(missing))
                    sent |= missing
                self._connected.set()
                delay = 0.05
                if lost:
                    lost = False
                    log.warning("Redis pub/sub restored; %d channels resubscribed", len(self._wanted))
                    self._on_restored()
                await reader
            except asyncio.CancelledError:
                if reader is not None:
                    reader.cancel()
                raise
            except (*_LOST, RuntimeError, ResponseError) as exc:
                # ResponseError: the server refused a (re)subscribe, e.g. MOVED after a cluster failover;
                # reconnecting lets the broker notice and move the channel to its new owner.
                if reader is not None:
                    reader.cancel()
                    with contextlib.suppress(BaseException):
                        await reader
                was_connected = self._connected.is_set()
                self._connected.clear()
                self._fail_waiters()
                await self._close_pubsub()
                if was_connected and not lost:
                    lost = True
                    log.warning("Redis pub/sub lost (%s); reconnecting", type(exc).__name__)
                    self._on_lost()
                await asyncio.sleep(delay)
                delay = min(delay * 2, self._retry_max_s)

    async def _read(self, pubsub: PubSub) -> None:
        message_type, confirm_type, names = self._message_type, self._confirm_type, self._names
        on_message = self._on_message
        while True:
            response: Any = await pubsub.parse_response(block=True)
            if not isinstance(response, list) or len(response) < 3:
                continue
            kind = response[0]
            if kind == message_type:
                channel = names.get(response[1])
                if channel is not None:
                    on_message(channel, response[2])
            elif kind == confirm_type:
                name = response[1].decode()
                waiters = self._waiters.get(name)
                if waiters:
                    future = waiters.pop(0)
                    if not waiters:
                        del self._waiters[name]
                    if not future.done():
                        future.set_result(None)
