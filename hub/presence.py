"""Presence in Redis: who is online (any socket on any node), chosen status, last seen, per topic.

Each node also keeps a heartbeat in ``hub:nodes`` and an index of the (topic, user) pairs its sockets
hold, so that when a node dies without closing its sockets another node can tell those users'
topics that they went offline (:meth:`Presence.reap`).
"""

from __future__ import annotations

import asyncio
import importlib.resources
import logging
import time
from collections import defaultdict
from typing import TYPE_CHECKING, Any, NamedTuple, cast

from redis.exceptions import RedisError

from hub.topics import local_part, namespace_of

if TYPE_CHECKING:
    from collections.abc import Iterable

    from redis.asyncio import Redis
    from redis.asyncio.cluster import RedisCluster

    from hub.config import HubConfig
    from hub.frames import PresenceStatus, UserStatus

log = logging.getLogger("hub.presence")

_LUA = importlib.resources.files("hub") / "lua"
STATUS_TTL_S = 30 * 86_400
SEEN_TTL_S = 90 * 86_400
PIPELINE_CHUNK = 1_000
MAX_CONCURRENT_CALLS = 16
INDEX_TTL_FACTOR = 20


def _conns_key(namespace: str, user_id: str) -> str:
    return f"t:{namespace}:presence:conns:{user_id}"


def _status_key(namespace: str, user_id: str) -> str:
    return f"t:{namespace}:presence:status:{user_id}"


def _seen_key(namespace: str, user_id: str) -> str:
    return f"t:{namespace}:presence:seen:{user_id}"


def _topic_key(topic: str) -> str:
    return f"t:{namespace_of(topic)}:presence:topic:{local_part(topic)}"


NODES_KEY = "hub:nodes"
"""Every live node (zset: node id -> expiry, unix seconds), refreshed with its presence entries."""


def _node_key(node_id: str) -> str:
    return f"hub:node:{node_id}:topics"


def _index_member(topic: str, user_id: str) -> str:
    # A user id never holds a newline (it comes from the authenticator), so the first one separates.
    return f"{user_id}\n{topic}"


class Departed(NamedTuple):
    """A user whose last socket was on a node that died, and the topics that socket listened to."""

    namespace: str
    user_id: str
    topics: list[str]
    last_seen: float
    """When the dead node last refreshed: the user was online until then."""


class Presence:
    """Presence of users across devices and nodes, held in Redis with expiry.

    Each connection is a member of its user's set with an expiry score that its node pushes forward
    every ``presence_ttl_s / 3``; a crashed node stops refreshing, so its users fall offline within
    ``presence_ttl_s`` (at most 60 s). Each topic keeps ``user@node`` members the same way, for
    "who is online in topic X". A user is online while any member is unexpired.
    """

    def __init__(self, *, redis: Redis | RedisCluster, node_id: str, config: HubConfig) -> None:
        self._redis = redis
        self._node_id = node_id
        self._ttl = config.presence_ttl_s
        self._cap = config.max_connections_per_user
        self._join = redis.register_script((_LUA / "presence_join.lua").read_text())
        self._leave = redis.register_script((_LUA / "presence_leave.lua").read_text())
        # Bounds this node's concurrent presence calls: a burst of connects must queue here rather
        # than exhaust the caller's connection pool.
        self._gate = asyncio.Semaphore(MAX_CONCURRENT_CALLS)
        self._conns: dict[str, tuple[str, str]] = {}
        self._topic_users: dict[tuple[str, str], int] = {}
        # Users of a reaped node who still looked online, and until when to look again (see reap).
        self._undecided: dict[str, tuple[Departed, float]] = {}

    @property
    def refresh_interval_s(self) -> float:
        """How often :meth:`refresh` must run."""
        return self._ttl / 3

    async def join(self, namespace: str, user_id: str, connection_id: str) -> int | None:
        """Count a new connection of a user, unless they are at the connection cap.

        Returns:
            ``-1`` if the user already holds ``max_connections_per_user`` live connections (nothing
            recorded), else how many they held before (``0``: they just came online), or ``None``
            if Redis is unreachable (recorded locally; the next refresh writes it).
        """
        self._conns[connection_id] = (namespace, user_id)
        now = time.time()
        try:
            async with self._gate:
                args: list[float | str | int] = [now, now + self._ttl, connection_id, self._cap]
                held = int(await self._join(keys=[_conns_key(namespace, user_id)], args=args))
        except RedisError as exc:
            log.warning("presence join not recorded: %s", type(exc).__name__)
            return None
        if held < 0:
            del self._conns[connection_id]
        return held

    async def leave(self, namespace: str, user_id: str, connection_id: str) -> int | None:
        """Forget a connection; records last seen.

        Returns:
            How many live connections the user still holds (``0``: they just went offline), or
            ``None`` if Redis is unreachable (the entry then expires on its own).
        """
        if self._conns.pop(connection_id, None) is None:
            return None
        now = time.time()
        try:
            async with self._gate:
                left = int(await self._leave(keys=[_conns_key(namespace, user_id)], args=[now, connection_id]))
                await self._redis.set(_seen_key(namespace, user_id), repr(now), ex=SEEN_TTL_S)
        except RedisError as exc:
            log.warning("presence leave not recorded: %s", type(exc).__name__)
            return None
        return left

    async def enter_topic(self, topic: str, user_id: str) -> None:
        """A local socket of ``user_id`` now listens to ``topic``."""
        key = (topic, user_id)
        count = self._topic_users.get(key, 0)
        self._topic_users[key] = count + 1
        if count:
            return
        expiry = time.time() + self._ttl
        try:
            async with self._gate, self._redis.pipeline(transaction=False) as pipe:
                pipe.zadd(_topic_key(topic), {f"{user_id}@{self._node_id}": expiry})
                pipe.expireat(_topic_key(topic), int(expiry) + 1)
                pipe.sadd(_node_key(self._node_id), _index_member(topic, user_id))
                await pipe.execute()
        except RedisError as exc:
            log.warning("topic presence not recorded: %s", type(exc).__name__)

    async def exit_topic(self, topic: str, user_id: str) -> None:
        """A local socket of ``user_id`` stopped listening to ``topic``."""
        key = (topic, user_id)
        count = self._topic_users.get(key, 0) - 1
        if count > 0:
            self._topic_users[key] = count
            return
        self._topic_users.pop(key, None)
        try:
            async with self._gate, self._redis.pipeline(transaction=False) as pipe:
                pipe.zrem(_topic_key(topic), f"{user_id}@{self._node_id}")
                pipe.srem(_node_key(self._node_id), _index_member(topic, user_id))
                await pipe.execute()
        except RedisError as exc:
            log.warning("topic presence not removed: %s", type(exc).__name__)

    async def refresh(self) -> bool:
        """Push every local entry's expiry forward (re-creating entries a Redis restart lost).

        Returns:
            Whether this node was missing from the live nodes (first refresh, Redis restarted, or
            this node stalled so long that another reaped it): its users' presence must then be
            announced again.

        Raises:
            ConnectionError: If Redis is unreachable.
        """
        now = time.time()
        expiry = now + self._ttl
        node_key = _node_key(self._node_id)
        commands: list[tuple[str, tuple[Any, ...]]] = [("zadd", (NODES_KEY, {self._node_id: expiry}))]
        for conn_id, (namespace, user_id) in self._conns.items():
            key = _conns_key(namespace, user_id)
            commands.append(("zadd", (key, {conn_id: expiry})))
            commands.append(("expireat", (key, int(expiry) + 1)))
            commands.append(("set", (_seen_key(namespace, user_id), repr(now), SEEN_TTL_S)))
        member_suffix = f"@{self._node_id}"
        for topic, user_id in self._topic_users:
            key = _topic_key(topic)
            commands.append(("zadd", (key, {user_id + member_suffix: expiry})))
            commands.append(("expireat", (key, int(expiry) + 1)))
            commands.append(("sadd", (node_key, _index_member(topic, user_id))))
        # The index outlives the node's heartbeat by far, so a reaper still finds it.
        commands.append(("expire", (node_key, int(self._ttl * INDEX_TTL_FACTOR))))
        try:
            results: list[Any] = []
            for start in range(0, len(commands), PIPELINE_CHUNK):
                async with self._gate, self._redis.pipeline(transaction=False) as pipe:
                    for name, args in commands[start : start + PIPELINE_CHUNK]:
                        getattr(pipe, name)(*args)
                    results.extend(await pipe.execute())
        except RedisError as exc:
            raise ConnectionError(f"presence refresh failed: {type(exc).__name__}") from exc
        return bool(results[0])

    async def reap(self) -> list[Departed]:
        """Claim the nodes whose heartbeat expired and list the users they leave offline.

        Each dead node is claimed by exactly one reaper (the one whose ``ZREM`` removed it). A user
        still online through another node is not listed.

        Raises:
            ConnectionError: If Redis is unreachable.
        """
        try:
            departed = await self._recheck_undecided()
            async with self._gate:
                expired = await self._redis.zrangebyscore(NODES_KEY, "-inf", time.time(), withscores=True)
            for raw, expiry in cast("list[tuple[bytes, float]]", expired):
                node_id = raw.decode()
                if node_id == self._node_id:
                    continue
                async with self._gate:
                    if not await self._redis.zrem(NODES_KEY, node_id):
                        continue
                    members = await self._redis.smembers(_node_key(node_id))
                    await self._redis.delete(_node_key(node_id))
                departed += await self._offline_among(members, last_seen=float(expiry) - self._ttl)
        except RedisError as exc:
            raise ConnectionError(f"presence reap failed: {type(exc).__name__}") from exc
        return departed

    async def _offline_among(self, members: Iterable[bytes | str], *, last_seen: float) -> list[Departed]:
        topics_of: dict[str, list[str]] = defaultdict(list)
        for member in members:
            text = member.decode() if isinstance(member, bytes) else member
            user_id, _, topic = text.partition("\n")
            topics_of[user_id].append(topic)
        departed = []
        # In user order, so that what one reap announces arrives in a predictable order.
        for user_id, topics in sorted(topics_of.items()):
            namespace = namespace_of(topics[0])
            if namespace is None:
                continue
            gone = Departed(namespace, user_id, sorted(topics), last_seen)
            if not await self.is_online(namespace, user_id):
                departed.append(gone)
            else:
                # A socket opened on the dead node after its last heartbeat carries a later expiry
                # than the node: look again until any such entry has expired (a user online
                # elsewhere stays online, their entries pushed forward by live nodes).
                self._undecided[f"{namespace}\n{user_id}"] = (gone, time.time() + self._ttl)
        return departed

    async def _recheck_undecided(self) -> list[Departed]:
        departed = []
        now = time.time()
        for key, (gone, until) in sorted(self._undecided.items()):
            if not await self.is_online(gone.namespace, gone.user_id):
                departed.append(gone)
                del self._undecided[key]
            elif now > until:
                del self._undecided[key]
        return departed

    async def forget_node(self) -> None:
        """A clean shutdown: this node's sockets are closed, nothing is left for a reaper."""
        try:
            async with self._gate, self._redis.pipeline(transaction=False) as pipe:
                pipe.zrem(NODES_KEY, self._node_id)
                pipe.delete(_node_key(self._node_id))
                await pipe.execute()
        except RedisError as exc:
            log.warning("node not removed from presence: %s", type(exc).__name__)

    async def is_online(self, namespace: str, user_id: str) -> bool:
        """Whether ``user_id`` has a live socket on any node.

        Raises:
            ConnectionError: If Redis is unreachable.
        """
        try:
            async with self._gate:
                return int(await self._redis.zcount(_conns_key(namespace, user_id), time.time(), "+inf")) > 0
        except RedisError as exc:
            raise ConnectionError(f"presence query failed: {type(exc).__name__}") from exc

    async def online_among(self, namespace: str, user_ids: Iterable[str]) -> set[str]:
        """Which of ``user_ids`` have a live socket on any node, in one pipelined round trip.

        Raises:
            ConnectionError: If Redis is unreachable.
        """
        ordered = sorted(set(user_ids))
        if not ordered:
            return set()
        now = time.time()
        try:
            async with self._gate, self._redis.pipeline(transaction=False) as pipe:
                for user_id in ordered:
                    pipe.zcount(_conns_key(namespace, user_id), now, "+inf")
                counts = await pipe.execute()
        except RedisError as exc:
            raise ConnectionError(f"presence query failed: {type(exc).__name__}") from exc
        return {user_id for user_id, count in zip(ordered, counts, strict=True) if int(count) > 0}

    async def status(self, namespace: str, user_id: str) -> PresenceStatus:
        """``offline`` if no live socket, else the user's chosen status (default ``online``).

        Raises:
            ConnectionError: If Redis is unreachable.
        """
        if not await self.is_online(namespace, user_id):
            return "offline"
        try:
            async with self._gate:
                chosen = await self._redis.get(_status_key(namespace, user_id))
        except RedisError as exc:
            raise ConnectionError(f"presence query failed: {type(exc).__name__}") from exc
        if chosen in (b"away", b"dnd"):
            return "away" if chosen == b"away" else "dnd"
        return "online"

    async def set_status(self, namespace: str, user_id: str, status: UserStatus) -> None:
        """Record the status a user chose (``online`` clears it).

        Raises:
            ConnectionError: If Redis is unreachable.
        """
        try:
            async with self._gate:
                if status == "online":
                    await self._redis.delete(_status_key(namespace, user_id))
                else:
                    await self._redis.set(_status_key(namespace, user_id), status, ex=STATUS_TTL_S)
        except RedisError as exc:
            raise ConnectionError(f"presence update failed: {type(exc).__name__}") from exc

    async def last_seen(self, namespace: str, user_id: str) -> float | None:
        """Unix time the user was last online (refreshed while online), or ``None`` if never seen.

        Raises:
            ConnectionError: If Redis is unreachable.
        """
        try:
            async with self._gate:
                raw = await self._redis.get(_seen_key(namespace, user_id))
        except RedisError as exc:
            raise ConnectionError(f"presence query failed: {type(exc).__name__}") from exc
        return float(raw) if raw is not None else None

    async def online_in_topic(self, topic: str) -> set[str]:
        """User ids with a live socket listening to ``topic``, on any node.

        Raises:
            ConnectionError: If Redis is unreachable.
        """
        try:
            async with self._gate:
                members = await self._redis.zrangebyscore(_topic_key(topic), time.time(), "+inf")
        except RedisError as exc:
            raise ConnectionError(f"presence query failed: {type(exc).__name__}") from exc
        return {_member_user(member) for member in members}


def _member_user(member: object) -> str:
    """``b"u1@node7"`` -> ``"u1"``."""
    text = member.decode() if isinstance(member, bytes) else str(member)
    return text.rpartition("@")[0]
