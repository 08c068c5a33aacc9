"""Presence in Redis: who is online (any socket on any node), chosen status, last seen, per topic."""

from __future__ import annotations

import asyncio
import importlib.resources
import logging
import time
from typing import TYPE_CHECKING, Any

from redis.exceptions import RedisError

from hub.topics import local_part, namespace_of

if TYPE_CHECKING:
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


def _conns_key(namespace: str, user_id: str) -> str:
    return f"t:{namespace}:presence:conns:{user_id}"


def _status_key(namespace: str, user_id: str) -> str:
    return f"t:{namespace}:presence:status:{user_id}"


def _seen_key(namespace: str, user_id: str) -> str:
    return f"t:{namespace}:presence:seen:{user_id}"


def _topic_key(topic: str) -> str:
    return f"t:{namespace_of(topic)}:presence:topic:{local_part(topic)}"


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
            async with self._gate:
                await self._redis.zrem(_topic_key(topic), f"{user_id}@{self._node_id}")
        except RedisError as exc:
            log.warning("topic presence not removed: %s", type(exc).__name__)

    async def refresh(self) -> None:
        """Push every local entry's expiry forward (re-creating entries a Redis restart lost).

        Raises:
            ConnectionError: If Redis is unreachable.
        """
        now = time.time()
        expiry = now + self._ttl
        commands: list[tuple[str, tuple[Any, ...]]] = []
        for conn_id, (namespace, user_id) in self._conns.items():
            key = _conns_key(namespace, user_id)
            commands.append(("zadd", (key, {conn_id: expiry})))
            commands.append(("expireat", (key, int(expiry) + 1)))
            commands.append(("set", (_seen_key(namespace, user_id), repr(now))))
        member_suffix = f"@{self._node_id}"
        for topic, user_id in self._topic_users:
            key = _topic_key(topic)
            commands.append(("zadd", (key, {user_id + member_suffix: expiry})))
            commands.append(("expireat", (key, int(expiry) + 1)))
        try:
            for start in range(0, len(commands), PIPELINE_CHUNK):
                async with self._gate, self._redis.pipeline(transaction=False) as pipe:
                    for name, args in commands[start : start + PIPELINE_CHUNK]:
                        getattr(pipe, name)(*args)
                    await pipe.execute()
        except RedisError as exc:
            raise ConnectionError(f"presence refresh failed: {type(exc).__name__}") from exc

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
