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
from hub.control import AddTopic, CloseSession, Notice, RemoveTopic, decode_command
from hub.core import HubCore
from hub.dispatch import Dispatcher
from hub.endpoint import Endpoint
from hub.frames import Resync, ServerPing, encode_text
from hub.observer import NOOP_OBSERVER
from hub.presence import Presence
from hub.publisher import HubPublisher

if TYPE_CHECKING:
    from collections.abc import Callable
    from types import TracebackType

    from litestar.handlers import WebsocketRouteHandler
    from redis.asyncio import Redis
    from redis.asyncio.cluster import RedisCluster

    from hub.broker import Broker
    from hub.config import HubConfig
    from hub.frames import ClientFrame
    from hub.hooks import Authenticator, FrameHandler, ReplayProvider, SubscriptionProvider
    from hub.observer import HubObserver

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
        observer: HubObserver = NOOP_OBSERVER,
    ) -> None:
        """Build a hub; nothing connects before the lifespan starts.

        Args:
            config: Limits and timings.
            broker: Carries events between nodes; started and stopped by the hub.
            redis: Holds presence; owned (and closed) by the caller.
            authenticator: Turns an upgrade request into a :class:`~hub.hooks.Principal`.
            node_id: Names this node in presence entries; random by default.
            observer: Told about sockets, frames, fan-out timings and the broker (metrics);
                observes nothing by default. When ``observer.timed``, events are stamped at publish.
        """
        self.node_id = node_id or uuid.uuid4().hex[:12]
        self._config = config
        self._broker = broker
        self._presence = Presence(redis=redis, node_id=self.node_id, config=config)
        self._observer = observer
        self._core = HubCore(config=config, broker=broker, presence=self._presence, observer=observer)
        self._dispatcher = Dispatcher(core=self._core)
        self._accepting = False
        self._endpoint = Endpoint(
            core=self._core, dispatcher=self._dispatcher, authenticator=authenticator, accepting=lambda: self._accepting
        )
        self._publisher = HubPublisher(
            broker=broker,
            control_channel=config.control_channel,
            stamp=observer.timed,
            timeout_s=config.publish_timeout_s,
            give_up_s=config.publish_give_up_s,
        )
        self._control: asyncio.Queue[AddTopic | RemoveTopic] = asyncio.Queue()
        self._tasks: list[asyncio.Task[None]] = []
        self._session_listeners: list[Callable[[str], None]] = []
        self._notice_listeners: dict[str, list[Callable[[str], None]]] = {}
        self._refresh_now = asyncio.Event()

    # --- registration --------------------------------------------------------------------------

    def register_handler(self, type_name: str, frame_type: type[ClientFrame], handler: FrameHandler[Any]) -> None:
        """Handle client frames of ``type_name`` (see :meth:`hub.dispatch.Dispatcher.register`)."""
        self._dispatcher.register(type_name, frame_type, handler)

    def register_subscription_provider(self, provider: SubscriptionProvider) -> None:
        """Add topics to every socket at connect (a user's conversations, say)."""
        self._core.subscription_providers.append(provider)

    def register_session_listener(self, listener: Callable[[str], None]) -> None:
        """Be told (synchronously, before the sockets' close frames go out) of every session closed on
        any node: the app forgets what it cached about it (a resolved principal, say)."""
        self._session_listeners.append(listener)

    def register_notice_listener(self, kind: str, listener: Callable[[str], None]) -> None:
        """Be told (synchronously) of every notice of ``kind`` sent by any node with :meth:`notify_nodes`,
        with its ``data``."""
        self._notice_listeners.setdefault(kind, []).append(listener)

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
        self._observer.broker_up(reconnected=False)
        # Join the live nodes before the first socket, so a crash at any time is noticed by the others.
        with contextlib.suppress(ConnectionError):
            await self._presence.refresh()
        self._tasks = [
            asyncio.create_task(self._heartbeat_loop(), name="hub-heartbeat"),
            asyncio.create_task(self._presence_loop(), name="hub-presence"),
            asyncio.create_task(self._control_loop(), name="hub-control"),
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
        await self._publisher.aclose(wait_s=self._config.close_timeout_s)
        await self._presence.forget_node()
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

    @property
    def publisher(self) -> HubPublisher:
        """Publishing and node commands (also usable alone by processes without sockets)."""
        return self._publisher

    async def publish(self, topic: str, payload: bytes, *, seq: int | None = None) -> None:
        """Send an event to every socket listening to ``topic``; see :meth:`HubPublisher.publish`."""
        await self._publisher.publish(topic, payload, seq=seq)

    async def add_topic(self, namespace: str, user_id: str, topic: str, *, since: int | None = None) -> None:
        """A new membership goes live on the user's sockets; see :meth:`HubPublisher.add_topic`."""
        await self._publisher.add_topic(namespace, user_id, topic, since=since)

    async def remove_topic(self, namespace: str, user_id: str, topic: str) -> None:
        """A removed membership stops; see :meth:`HubPublisher.remove_topic`."""
        await self._publisher.remove_topic(namespace, user_id, topic)

    async def close_session(
        self, session_id: str, code: int = CLOSE_SESSION_REVOKED, reason: str = "session_revoked"
    ) -> None:
        """Close every socket of a revoked session, on every node (this node's at once).

        Raises:
            ConnectionError: If the broker is unreachable (this node's sockets are closed anyway).
        """
        self._close_local(CloseSession(session_id, code, reason))
        await self._publisher.close_session(session_id, code, reason)

    async def notify_nodes(self, kind: str, data: str = "") -> None:
        """Tell every node's listeners of ``kind`` (this node's at once).

        Raises:
            ConnectionError: If the broker is unreachable (this node's listeners have heard it anyway).
        """
        notice = Notice(kind=kind, data=data)
        self._notice_local(notice)
        await self._publisher.command(notice)

    def _notice_local(self, notice: Notice) -> None:
        for listener in self._notice_listeners.get(notice.kind, ()):
            try:
                listener(notice.data)
            except Exception:
                log.exception("a notice listener failed")

    def _close_local(self, command: CloseSession) -> None:
        for listener in self._session_listeners:
            try:
                listener(command.session_id)
            except Exception:
                log.exception("a session listener failed")
        for conn in self._core.registry.for_session(command.session_id):
            log.info("closing connection %s: %s", conn.id, command.reason)
            conn.close(command.code, command.reason)

    async def _control_loop(self) -> None:
        # Topic changes run one at a time, in the order published, so an add followed by a remove
        # of the same membership cannot end up applied the other way round.
        core = self._core
        while True:
            command = await self._control.get()
            try:
                if isinstance(command, AddTopic):
                    await core.add_topic_local(command.namespace, command.user_id, command.topic, command.since)
                elif isinstance(command, RemoveTopic):
                    await core.remove_topic_local(command.namespace, command.user_id, command.topic)
            except Exception:
                log.exception("applying a topic change failed")

    # --- BrokerListener ------------------------------------------------------------------------

    def on_message(self, channel: str, data: bytes) -> None:
        """Route a broker message: a command, or an event for local sockets."""
        if channel == self._config.control_channel:
            try:
                command = decode_command(data)
            except msgspec.DecodeError:
                log.warning("dropping a malformed control command")
                return
            if isinstance(command, CloseSession):
                self._close_local(command)
            elif isinstance(command, Notice):
                self._notice_local(command)
            elif self._core.registry.for_user(command.namespace, command.user_id):
                self._control.put_nowait(command)
            return
        self._core.fanout.dispatch(channel, data)

    def on_connection_lost(self) -> None:
        """Keep every socket; publishing fails until the broker is back."""
        self._observer.broker_lost()
        log.warning("broker connection lost; %d sockets kept", len(self._core.registry))

    def on_connection_restored(self) -> None:
        """Tell every client to resume (events published meanwhile were missed), refresh presence."""
        self._observer.broker_up(reconnected=True)
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
            self._observer.frames_sent("ping", len(self._core.registry))
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
                if await self._presence.refresh():
                    await self._core.announce_all()
                for gone in await self._presence.reap():
                    await self._core.departed(gone)
            except ConnectionError as exc:
                log.warning("%s; retrying next round", exc)
