"""The ``Hub`` facade: lifespan, hook registration, publishing, and node-to-node commands."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from typing import TYPE_CHECKING, Any

import msgspec

from hub.connection import CLOSE_HEARTBEAT_TIMEOUT, CLOSE_SESSION_REVOKED
from hub.control import AddTopic, CloseSession, Command, RemoveTopic, decode_command, encode_command
from hub.core import HubCore
from hub.dispatch import Dispatcher
from hub.endpoint import Endpoint
from hub.fanout import pack
from hub.frames import Event, Resync, ServerPing, encode, encode_text
from hub.presence import Presence
from hub.topics import TopicError, belongs_to, namespace_of

if TYPE_CHECKING:
    from types import TracebackType

    from litestar.handlers import WebsocketRouteHandler
    from redis.asyncio import Redis
    from redis.asyncio.cluster import RedisCluster

    from hub.broker import Broker
    from hub.config import HubConfig
    from hub.frames import ClientFrame
    from hub.hooks import Authenticator, FrameHandler, ReplayProvider, SubscriptionProvider

log = logging.getLogger("hub")


class Hub:
    """fieldhub's real-time engine on one node; an async context manager for the app's lifespan.

    Example::

        hub = Hub(config=HubConfig(), broker=RedisBroker(url=url), redis=redis, authenticator=auth)
        app = Litestar(route_handlers=[hub.route_handler("/ws")], lifespan=[hub])
    """

    def __init__(
        self,
        *,
        config: HubConfig,
        broker: Broker,
        redis: Redis | RedisCluster,
        authenticator: Authenticator,
        node_id: str | None = None,
    ) -> None:
        """Build a hub; nothing connects before the lifespan starts.

        Args:
            config: Limits and timings.
            broker: Carries events between nodes; started and stopped by the hub.
            redis: Holds presence; owned (and closed) by the caller.
            authenticator: Turns an upgrade request into a :class:`~hub.hooks.Principal`.
            node_id: Names this node in presence entries; random by default.
        """
        self.node_id = node_id or uuid.uuid4().hex[:12]
        self._config = config
        self._broker = broker
        self._presence = Presence(redis=redis, node_id=self.node_id, config=config)
        self._core = HubCore(config=config, broker=broker, presence=self._presence)
        self._dispatcher = Dispatcher(core=self._core)
        self._accepting = False
        self._endpoint = Endpoint(
            core=self._core, dispatcher=self._dispatcher, authenticator=authenticator, accepting=lambda: self._accepting
        )
        self._tasks: list[asyncio.Task[None]] = []
        self._refresh_now = asyncio.Event()

    # --- registration --------------------------------------------------------------------------

    def register_handler(self, type_name: str, frame_type: type[ClientFrame], handler: FrameHandler[Any]) -> None:
        """Handle client frames of ``type_name`` (see :meth:`hub.dispatch.Dispatcher.register`)."""
        self._dispatcher.register(type_name, frame_type, handler)

    def register_subscription_provider(self, provider: SubscriptionProvider) -> None:
        """Add topics to every socket at connect (a user's conversations, say)."""
        self._core.subscription_providers.append(provider)

    def register_replay_provider(self, prefix: str, provider: ReplayProvider) -> None:
        """Replay and authorize topics whose part after ``t:<namespace>:`` starts with ``prefix``."""
        self._core.router.register(prefix, provider)

    @property
    def presence(self) -> Presence:
        """Presence queries: ``is_online``, ``status``, ``last_seen``, ``online_in_topic``."""
        return self._presence

    @property
    def connection_count(self) -> int:
        """Sockets open on this node."""
        return len(self._core.registry)

    def route_handler(self, path: str = "/ws") -> WebsocketRouteHandler:
        """The Litestar WebSocket route; serve it with permessage-deflate off (uvicorn
        ``--ws-per-message-deflate false``), the hub's frames are small and compression costs memory."""
        return self._endpoint.route_handler(path)

    # --- lifespan ------------------------------------------------------------------------------

    async def __aenter__(self) -> Hub:
        await self._broker.on_startup(self)
        await self._broker.subscribe([self._config.control_channel])
        self._tasks = [
            asyncio.create_task(self._heartbeat_loop(), name="hub-heartbeat"),
            asyncio.create_task(self._presence_loop(), name="hub-presence"),
        ]
        self._accepting = True
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.drain()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self._core.fanout.drain()
        await self._broker.on_shutdown()

    async def drain(self, reason: str = "shutdown") -> None:
        """Stop accepting, tell every client to reconnect elsewhere, close them with 1012, and wait
        (at most ``close_timeout_s``) until their in-flight frames are handled and they are gone.

        Call it before stopping the server for a rolling restart; the lifespan end calls it too.
        """
        self._accepting = False
        self._endpoint.close_all(reason)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._core.idle.wait(), self._config.close_timeout_s * 2)

    # --- publishing and commands ---------------------------------------------------------------

    async def publish(self, topic: str, payload: bytes, *, seq: int | None = None) -> None:
        """Send an event to every socket listening to ``topic``, on every node.

        Args:
            topic: ``t:<namespace>:...``.
            payload: The event as JSON bytes; embedded verbatim, never re-encoded or validated.
            seq: The topic's gap-free sequence number for durable events, ``None`` for ephemeral ones.

        Raises:
            ConnectionError: If the broker is unreachable (clients recover through resume).
            TopicError: If ``topic`` is malformed.
        """
        if namespace_of(topic) is None:
            raise TopicError(f"malformed topic {topic!r}")
        frame = encode(Event(topic, seq, msgspec.Raw(payload)))
        await self._broker.publish(pack(frame, seq), [topic])

    async def add_topic(self, namespace: str, user_id: str, topic: str) -> None:
        """Make ``topic`` reach every socket of a user, on whatever node it is (a new membership).

        Returns once the command is published, before the sockets joined.

        Raises:
            TopicError: If ``topic`` is not inside ``namespace``.
            ConnectionError: If the broker is unreachable.
        """
        if not belongs_to(topic, namespace):
            raise TopicError("topic outside the namespace")
        await self._command(AddTopic(namespace, user_id, topic))

    async def remove_topic(self, namespace: str, user_id: str, topic: str) -> None:
        """Stop ``topic`` reaching any socket of a user (a removed membership); see :meth:`add_topic`."""
        if not belongs_to(topic, namespace):
            raise TopicError("topic outside the namespace")
        await self._command(RemoveTopic(namespace, user_id, topic))

    async def close_session(
        self, session_id: str, code: int = CLOSE_SESSION_REVOKED, reason: str = "session_revoked"
    ) -> None:
        """Close every socket of a revoked session, on every node (locally at once).

        Raises:
            ConnectionError: If the broker is unreachable (local sockets are closed anyway).
        """
        self._apply(CloseSession(session_id, code, reason))
        await self._command(CloseSession(session_id, code, reason))

    async def _command(self, command: Command) -> None:
        await self._broker.publish(encode_command(command), [self._config.control_channel])

    def _apply(self, command: Command) -> None:
        core = self._core
        if isinstance(command, CloseSession):
            for conn in core.registry.for_session(command.session_id):
                log.info("closing connection %s: %s", conn.id, command.reason)
                conn.close(command.code, command.reason)
            return
        if isinstance(command, AddTopic):
            coro = core.add_topic_local(command.namespace, command.user_id, command.topic)
        else:
            coro = core.remove_topic_local(command.namespace, command.user_id, command.topic)
        self._spawn(coro)

    def _spawn(self, coro: Any) -> None:
        task = asyncio.create_task(coro)
        self._tasks.append(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[None]) -> None:
        with contextlib.suppress(ValueError):
            self._tasks.remove(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("hub task failed", exc_info=task.exception())

    # --- BrokerListener ------------------------------------------------------------------------

    def on_message(self, channel: str, data: bytes) -> None:
        """Route a broker message: a command, or an event for local sockets."""
        if channel == self._config.control_channel:
            try:
                command = decode_command(data)
            except msgspec.DecodeError:
                log.warning("dropping a malformed control command")
                return
            if not isinstance(command, CloseSession) or self._core.registry.for_session(command.session_id):
                self._apply(command)
            return
        self._core.fanout.dispatch(channel, data)

    def on_connection_lost(self) -> None:
        """Keep every socket; publishing fails until the broker is back."""
        log.warning("broker connection lost; %d sockets kept", len(self._core.registry))

    def on_connection_restored(self) -> None:
        """Tell every client to resume (events published meanwhile were missed), refresh presence."""
        self._core.fanout.mark_all_confirmed()
        for conn in self._core.registry:
            conn.send_frame(Resync(reason="broker_reconnected", topics=sorted(conn.topics)))
        self._refresh_now.set()

    # --- background loops ----------------------------------------------------------------------

    async def _heartbeat_loop(self) -> None:
        config = self._config
        ping = encode_text(ServerPing())
        while True:
            await asyncio.sleep(config.heartbeat_interval_s)
            deadline = time.monotonic() - config.heartbeat_timeout_s
            for conn in self._core.registry:
                if conn.last_heard < deadline:
                    log.info("connection %s silent for %.0f s; closing 4009", conn.id, config.heartbeat_timeout_s)
                    conn.close(CLOSE_HEARTBEAT_TIMEOUT, "heartbeat_timeout", flush=False)
                else:
                    conn.send(ping)

    async def _presence_loop(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._refresh_now.wait(), self._presence.refresh_interval_s)
            self._refresh_now.clear()
            try:
                await self._presence.refresh()
            except ConnectionError as exc:
                log.warning("%s; retrying next round", exc)
