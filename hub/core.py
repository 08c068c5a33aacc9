"""The node's shared state and the topic operations both the endpoint and the ``Hub`` facade use."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Literal

from hub.fanout import Fanout, pack
from hub.frames import Error, Presence, ServerFrame, Subscribed, TypingNotice, Unsubscribed, encode
from hub.observer import NOOP_OBSERVER, FrameScope
from hub.registry import Registry
from hub.resume import ReplayRouter
from hub.topics import belongs_to, local_part, user_topic
from hub.typing_state import TypingThrottle

if TYPE_CHECKING:
    from collections.abc import Iterable

    from hub.broker import Broker
    from hub.config import HubConfig
    from hub.connection import Connection
    from hub.frames import ErrorCode, PresenceStatus, UserStatus
    from hub.hooks import SubscriptionProvider
    from hub.observer import HubObserver
    from hub.presence import Departed
    from hub.presence import Presence as PresenceStore

log = logging.getLogger("hub.core")

OpenResult = Literal["refused", "first", "more"]


class HubCore:
    """Registry, fan-out, presence, typing and replay of one node, and what a socket can do with them."""

    def __init__(
        self, *, config: HubConfig, broker: Broker, presence: PresenceStore, observer: HubObserver = NOOP_OBSERVER
    ) -> None:
        self.config = config
        self.broker = broker
        self.presence = presence
        self.observer = observer
        self.frame_scope: FrameScope | None = observer if isinstance(observer, FrameScope) else None
        self.registry = Registry()
        self.fanout = Fanout(broker=broker, observer=observer)
        self.router = ReplayRouter(max_replay=config.max_replay)
        self.typing = TypingThrottle(ttl_s=config.typing_ttl_s)
        self.subscription_providers: list[SubscriptionProvider] = []
        self.idle = asyncio.Event()
        self.idle.set()

    # --- publishing ----------------------------------------------------------------------------

    async def publish_frame(self, frame: ServerFrame, topics: Iterable[str]) -> None:
        """Publish an ephemeral (seq-less) frame to ``topics`` on every node; errors are logged."""
        names = list(topics)
        if not names:
            return
        try:
            await self.broker.publish(pack(encode(frame)), names)
        except ConnectionError:
            log.warning("broker unavailable: dropped a %s frame", type(frame).__name__)

    # --- connection lifetime -------------------------------------------------------------------

    async def open(self, conn: Connection) -> OpenResult:
        """Register ``conn`` and count it in presence.

        Returns:
            ``refused`` if the user is at the connection cap (nothing kept), ``first`` if it is the
            user's only live socket (call :meth:`announce_online` once its topics are joined).
        """
        principal = conn.principal
        if self.registry.count_user(principal.namespace, principal.user_id) >= self.config.max_connections_per_user:
            return "refused"
        held = await self.presence.join(principal.namespace, principal.user_id, conn.id)
        if held == -1:
            return "refused"
        self.registry.add(conn)
        self.observer.connection_opened()
        self.idle.clear()
        return "first" if held == 0 else "more"

    async def announce_online(self, conn: Connection) -> None:
        """Tell the user's topics they came online (with the status they chose earlier, if any)."""
        principal = conn.principal
        try:
            status = await self.presence.status(principal.namespace, principal.user_id)
        except ConnectionError:
            status = "online"
        await self.announce(conn, "online" if status == "offline" else status)

    async def initial_topics(self, conn: Connection) -> list[str]:
        """The user topic plus what subscription providers give, fenced to the socket's namespace."""
        principal = conn.principal
        topics = [user_topic(principal.namespace, principal.user_id)]
        for provider in self.subscription_providers:
            for name in await provider(principal):
                if not belongs_to(name, principal.namespace):
                    log.warning("subscription provider gave a topic outside the socket's namespace; dropped")
                    continue
                if name not in topics:
                    topics.append(name)
        return topics

    async def close(self, conn: Connection) -> None:
        """Forget ``conn`` everywhere; tell its topics if its user went offline."""
        principal = conn.principal
        topics = set(conn.topics)
        for name in topics:
            await self.leave_topic(conn, name)
        self.typing.forget(conn.id, topics)
        self.registry.remove(conn)
        self.observer.connection_closed()
        left = await self.presence.leave(principal.namespace, principal.user_id, conn.id)
        if left == 0:
            try:
                seen = await self.presence.last_seen(principal.namespace, principal.user_id)
            except ConnectionError:
                seen = None
            frame = Presence(user_id=principal.user_id, status="offline", last_seen=seen)
            await self.publish_frame(frame, self.presence_topics(topics))
        if not len(self.registry):
            self.idle.set()

    async def announce(self, conn: Connection, status: PresenceStatus) -> None:
        """Publish ``conn``'s user's presence to every topic its local sockets listen to."""
        principal = conn.principal
        topics: set[str] = set()
        for other in self.registry.for_user(principal.namespace, principal.user_id):
            topics |= other.topics
        await self.publish_frame(Presence(user_id=principal.user_id, status=status), self.presence_topics(topics))

    async def announce_all(self) -> None:
        """Publish every local user's presence again (after this node was missing from Redis).

        Raises:
            ConnectionError: If Redis is unreachable.
        """
        announced: set[tuple[str, str]] = set()
        for conn in list(self.registry):
            who = (conn.principal.namespace, conn.principal.user_id)
            if who not in announced:
                announced.add(who)
                await self.announce(conn, await self.presence.status(*who))

    async def departed(self, gone: Departed) -> None:
        """Tell a dead node's user's topics that the user went offline."""
        frame = Presence(user_id=gone.user_id, status="offline", last_seen=gone.last_seen)
        await self.publish_frame(frame, self.presence_topics(gone.topics))

    def presence_topics(self, topics: Iterable[str]) -> list[str]:
        """The topics that carry presence frames: ``presence_prefixes`` filters them (user topics always do)."""
        prefixes = self.config.presence_prefixes
        if prefixes is None:
            return list(topics)
        keep = (*prefixes, "user:")
        return [name for name in topics if local_part(name).startswith(keep)]

    # --- topics --------------------------------------------------------------------------------

    async def join_topic(self, conn: Connection, topic: str) -> bool:
        """Make ``topic`` reach ``conn`` (tenant-fenced).

        Returns:
            ``False`` if refused (foreign namespace) or already joined; ``True`` once live.
        """
        if not belongs_to(topic, conn.principal.namespace):
            log.warning("refused a topic outside connection %s's namespace", conn.id)
            return False
        if topic in conn.topics:
            return False
        conn.topics.add(topic)
        await self.fanout.attach(conn, topic)
        await self.presence.enter_topic(topic, conn.principal.user_id)
        return True

    async def leave_topic(self, conn: Connection, topic: str) -> None:
        """Stop ``topic`` reaching ``conn``."""
        if topic not in conn.topics:
            return
        conn.forget_topic(topic)
        self.fanout.detach(conn, topic)
        await self.presence.exit_topic(topic, conn.principal.user_id)

    async def subscribe(self, conn: Connection, topic: str, since: int | None, ref: str | None) -> None:
        """Handle a ``subscribe`` frame: authorize, replay ``seq > since``, go live with no gap."""
        principal = conn.principal
        if not belongs_to(topic, principal.namespace):
            log.warning("connection %s asked for a topic outside its namespace", conn.id)
            conn.send_frame(Error(ref=ref, code="forbidden", message="topic outside your namespace"))
            return
        already = topic in conn.topics
        if since is None:
            if not already:
                status = await self.router.authorize(principal, topic)
                if status != "ok":
                    code: ErrorCode = "forbidden" if status == "forbidden" else "not_found"
                    conn.send_frame(Error(ref=ref, code=code, message="topic refused"))
                    return
                await self.join_topic(conn, topic)
            conn.send_frame(Subscribed(ref=ref, topic=topic))
            return
        # Hold live events first, subscribe (confirmed) second, read history third: anything
        # committed after the read was published after the subscription, so it is held, not lost.
        conn.begin_replay(topic)
        if not already:
            conn.topics.add(topic)
            live = await self.fanout.attach(conn, topic)
        else:
            live = True
        replay = await self.router.replay(principal, topic, since)
        if replay.refused is not None:
            conn.abort_replay(topic)
            if not already:
                conn.topics.discard(topic)
                self.fanout.detach(conn, topic)
            refused: ErrorCode = "forbidden" if replay.refused == "forbidden" else "not_found"
            conn.send_frame(Error(ref=ref, code=refused, message="topic refused"))
            return
        if not already:
            await self.presence.enter_topic(topic, principal.user_id)
        outcome = replay.outcome if live else "unavailable"
        seq = conn.finish_replay(topic, replay.events if outcome == "recovered" else [], since)
        conn.send_frame(Subscribed(ref=ref, topic=topic, resume=outcome, seq=seq))

    async def unsubscribe(self, conn: Connection, topic: str, ref: str | None) -> None:
        """Handle an ``unsubscribe`` frame; the user topic cannot be left."""
        principal = conn.principal
        if topic == user_topic(principal.namespace, principal.user_id):
            conn.send_frame(Error(ref=ref, code="forbidden", message="the user topic cannot be left"))
            return
        if topic not in conn.topics:
            conn.send_frame(Error(ref=ref, code="not_found", message="not subscribed"))
            return
        await self.leave_topic(conn, topic)
        conn.send_frame(Unsubscribed(ref=ref, topic=topic))

    async def typing_frame(self, conn: Connection, topic: str, active: bool, ref: str | None) -> None:
        """Handle a ``typing`` frame: publish it (throttled) to the topic's listeners."""
        if topic not in conn.topics:
            conn.send_frame(Error(ref=ref, code="forbidden", message="not subscribed to this topic"))
            return
        if self.typing.should_publish(conn.id, topic, active=active):
            notice = TypingNotice(
                topic=topic, user_id=conn.principal.user_id, active=active, expires_in_ms=self.typing.expires_in_ms
            )
            await self.publish_frame(notice, [topic])

    async def set_status(self, conn: Connection, status: UserStatus, ref: str | None) -> None:
        """Handle a ``status`` frame: record it and tell the user's topics."""
        principal = conn.principal
        try:
            await self.presence.set_status(principal.namespace, principal.user_id, status)
        except ConnectionError:
            conn.send_frame(Error(ref=ref, code="unavailable", message="presence store unreachable"))
            return
        await self.announce(conn, status)

    # --- node-wide operations ------------------------------------------------------------------

    async def add_topic_local(self, namespace: str, user_id: str, topic: str, since: int | None = None) -> None:
        """Join ``topic`` on this node's sockets of one user, telling each client; with ``since``,
        replay the events after it first (as a ``subscribe`` with ``since`` would)."""
        for conn in self.registry.for_user(namespace, user_id):
            if since is not None and topic not in conn.topics:
                await self.subscribe(conn, topic, since, None)
            elif await self.join_topic(conn, topic):
                conn.send_frame(Subscribed(topic=topic))

    async def remove_topic_local(self, namespace: str, user_id: str, topic: str) -> None:
        """Leave ``topic`` on this node's sockets of one user, telling each client."""
        for conn in self.registry.for_user(namespace, user_id):
            if topic in conn.topics:
                await self.leave_topic(conn, topic)
                conn.send_frame(Unsubscribed(topic=topic))
            elif conn.removed_early is not None:
                conn.removed_early.add(topic)
