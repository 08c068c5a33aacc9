"""Redis brokers: plain pub/sub on one server, and sharded pub/sub (SPUBLISH/SSUBSCRIBE) on a cluster."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.cluster import RedisCluster
from redis.backoff import NoBackoff
from redis.exceptions import RedisClusterException, RedisError
from redis.retry import Retry

from hub.broker import Broker, BrokerListener
from hub.pubsub_link import PubSubLink

if TYPE_CHECKING:
    from redis.asyncio.cluster import ClusterNode

CONNECT_TIMEOUT_S = 2.0
STARTUP_TIMEOUT_S = 10.0
PUBLISH_CONNECTIONS = 32
FAILOVER_POLL_S = 0.1
"""First wait before re-reading a cluster's slot map after losing a primary (then doubling)."""
FAILOVER_POLL_MAX_S = 1.0
"""Longest wait between slot-map reads: a failover takes about twice ``cluster-node-timeout``."""

log = logging.getLogger("hub.broker")


def _pubsub_client(**kwargs: object) -> Redis:
    # No silent retries on the pub/sub connection: PubSubLink owns reconnects and resubscribes.
    return Redis(protocol=2, retry=Retry(NoBackoff(), 0), socket_connect_timeout=CONNECT_TIMEOUT_S, **kwargs)  # type: ignore[arg-type]


class RedisBroker(Broker):
    """Plain Redis pub/sub: one subscriber connection per node, channels subscribed only while needed."""

    def __init__(self, *, url: str, retry_max_s: float = 5.0) -> None:
        self._url = url
        self._retry_max_s = retry_max_s
        self._publisher: Redis | None = None
        self._link: PubSubLink | None = None

    async def on_startup(self, listener: BrokerListener) -> None:
        """Connect publisher and subscriber; raises ``ConnectionError`` if Redis stays unreachable."""
        # A blocking pool: a burst of publishes waits for a connection instead of failing.
        pool = BlockingConnectionPool.from_url(
            self._url,
            max_connections=PUBLISH_CONNECTIONS,
            timeout=CONNECT_TIMEOUT_S,
            protocol=2,
            socket_connect_timeout=CONNECT_TIMEOUT_S,
        )
        self._publisher = Redis(connection_pool=pool)
        subscriber = Redis.from_url(
            self._url, protocol=2, retry=Retry(NoBackoff(), 0), socket_connect_timeout=CONNECT_TIMEOUT_S
        )
        self._link = PubSubLink(
            redis=subscriber,
            mode="plain",
            on_message=listener.on_message,
            on_lost=listener.on_connection_lost,
            on_restored=listener.on_connection_restored,
            retry_max_s=self._retry_max_s,
        )
        await self._link.start(wait_s=STARTUP_TIMEOUT_S)

    async def on_shutdown(self) -> None:
        """Close both connections."""
        if self._link is not None:
            await self._link.stop()
            self._link = None
        if self._publisher is not None:
            await self._publisher.aclose(close_connection_pool=True)
            self._publisher = None

    async def publish(self, data: bytes, channels: Iterable[str]) -> None:
        """PUBLISH ``data`` on each channel (pipelined, no transaction)."""
        await self.publish_batch([(name, data) for name in channels])

    async def publish_batch(self, messages: Sequence[tuple[str, bytes]]) -> None:
        """PUBLISH every message in one round trip (pipelined, no transaction)."""
        assert self._publisher is not None, "broker not started"
        try:
            if len(messages) == 1:
                await self._publisher.publish(*messages[0])
                return
            async with self._publisher.pipeline(transaction=False) as pipe:
                for channel, data in messages:
                    pipe.publish(channel, data)
                await pipe.execute()
        except RedisError as exc:
            raise ConnectionError(f"publish failed: {type(exc).__name__}") from exc

    async def subscribe(self, channels: Iterable[str]) -> None:
        """SUBSCRIBE and wait for confirmation; see :meth:`Broker.subscribe`."""
        assert self._link is not None, "broker not started"
        await self._link.subscribe(channels)

    async def unsubscribe(self, channels: Iterable[str]) -> None:
        """UNSUBSCRIBE; see :meth:`Broker.unsubscribe`."""
        assert self._link is not None, "broker not started"
        await self._link.unsubscribe(channels)


class ShardedRedisBroker(Broker):
    """Redis Cluster sharded pub/sub: a channel is subscribed on the primary that owns its slot.

    One subscriber connection per primary that holds a wanted channel. When a primary's link drops,
    the broker re-reads the slot map until another node owns those channels (a replica promoted by
    the cluster's failover) and moves them there; if the primary itself comes back first, its link
    simply resubscribes. Either way the listener hears ``on_connection_restored`` once every channel
    is subscribed again. Slot migrations of a live primary are not followed: Redis ends those
    subscriptions with a ``sunsubscribe`` the link ignores; rebalance with nodes restarted.
    """

    def __init__(self, *, url: str, retry_max_s: float = 5.0) -> None:
        self._url = url
        self._retry_max_s = retry_max_s
        self._cluster: RedisCluster | None = None
        self._listener: BrokerListener | None = None
        self._links: dict[str, PubSubLink] = {}
        self._lost: set[str] = set()
        self._followers: dict[str, asyncio.Task[None]] = {}
        self._opening = asyncio.Lock()

    async def on_startup(self, listener: BrokerListener) -> None:
        """Discover the cluster's slots; links to primaries open lazily on first subscribe."""
        self._listener = listener
        self._cluster = RedisCluster.from_url(self._url, socket_connect_timeout=CONNECT_TIMEOUT_S)
        await self._cluster.initialize()

    async def on_shutdown(self) -> None:
        """Close every link and the cluster client."""
        for follower in self._followers.values():
            follower.cancel()
        await asyncio.gather(*self._followers.values(), return_exceptions=True)
        self._followers.clear()
        for link in self._links.values():
            await link.stop()
        self._links.clear()
        if self._cluster is not None:
            await self._cluster.aclose()
            self._cluster = None

    async def publish(self, data: bytes, channels: Iterable[str]) -> None:
        """SPUBLISH ``data`` on each channel (each goes to its slot's primary)."""
        await self.publish_batch([(name, data) for name in channels])

    async def publish_batch(self, messages: Sequence[tuple[str, bytes]]) -> None:
        """SPUBLISH every message; a batch goes as one pipeline per primary, sent concurrently."""
        assert self._cluster is not None, "broker not started"
        try:
            if len(messages) == 1:
                await self._cluster.spublish(*messages[0])
                return
            async with self._cluster.pipeline(transaction=False) as pipe:
                for channel, data in messages:
                    pipe.spublish(channel, data)
                await pipe.execute()
        except (RedisError, RedisClusterException) as exc:
            raise ConnectionError(f"publish failed: {type(exc).__name__}") from exc

    async def subscribe(self, channels: Iterable[str]) -> None:
        """SSUBSCRIBE each channel on its primary and wait for confirmation."""
        for node_name, names in self._by_node(channels).items():
            link = await self._link_to(node_name)
            await link.subscribe(names)

    async def unsubscribe(self, channels: Iterable[str]) -> None:
        """SUNSUBSCRIBE each channel on its primary."""
        for node_name, names in self._by_node(channels).items():
            link = self._links.get(node_name)
            if link is not None:
                await link.unsubscribe(names)

    def _by_node(self, channels: Iterable[str]) -> dict[str, list[str]]:
        assert self._cluster is not None, "broker not started"
        grouped: dict[str, list[str]] = {}
        for name in channels:
            try:
                node: ClusterNode | None = self._cluster.get_node_from_key(name)
            except RedisClusterException as exc:
                raise ConnectionError(f"no cluster node owns channel {name!r}") from exc
            if node is None:
                raise ConnectionError(f"no cluster node owns channel {name!r}")
            grouped.setdefault(node.name, []).append(name)
        return grouped

    async def _link_to(self, node_name: str) -> PubSubLink:
        """The link to a primary, opened on first use.

        Callers that arrive while it opens wait for it: a link that is still connecting would refuse
        their channels (and the hub would take them for unsubscribed).
        """
        link = self._links.get(node_name)
        if link is not None:
            return link
        async with self._opening:
            return self._links.get(node_name) or await self._open_link(node_name)

    async def _open_link(self, node_name: str) -> PubSubLink:
        assert self._cluster is not None, "broker not started"
        assert self._listener is not None, "broker not started"
        node = self._cluster.get_node(node_name=node_name)
        if node is None:
            raise ConnectionError(f"unknown cluster node {node_name}")
        listener = self._listener
        link = PubSubLink(
            redis=_pubsub_client(host=node.host, port=node.port),
            mode="sharded",
            on_message=listener.on_message,
            on_lost=lambda: self._link_lost(node_name),
            on_restored=lambda: self._link_restored(node_name),
            retry_max_s=self._retry_max_s,
        )
        try:
            await link.start(wait_s=STARTUP_TIMEOUT_S)
        finally:
            # Kept even if not connected yet: the link goes on trying, and keeps what it is given.
            self._links[node_name] = link
        return link

    def _link_lost(self, node_name: str) -> None:
        first = not self._lost
        self._lost.add(node_name)
        if first and self._listener is not None:
            self._listener.on_connection_lost()
        if node_name not in self._followers:
            self._followers[node_name] = asyncio.create_task(
                self._follow_failover(node_name), name="hub-cluster-failover"
            )

    async def _follow_failover(self, node_name: str) -> None:
        """Move the channels of a lost primary to whichever node the cluster names for their slots."""
        assert self._cluster is not None, "broker not started"
        delay = FAILOVER_POLL_S
        moved = 0
        try:
            while True:
                link = self._links.get(node_name)
                if link is None or link.connected:
                    return  # the primary came back itself and resubscribed
                # Read on every pass: the hub may want more channels of those slots meanwhile.
                pending = link.wanted
                if not pending:
                    # No await between this check and the removal, so no channel is left behind.
                    del self._links[node_name]
                    await link.stop()
                    log.warning("cluster primary %s replaced; %d channels moved", node_name, moved)
                    self._link_restored(node_name)
                    return
                try:
                    await self._cluster.nodes_manager.initialize()
                    owners = self._by_node(pending)
                    owners.pop(node_name, None)  # not failed over yet: those wait for the next pass
                    for owner, names in owners.items():
                        target = await self._link_to(owner)
                        await target.subscribe(names)
                        # Dropped here, so the old primary, should it return, does not deliver them twice.
                        await link.unsubscribe(names)
                        moved += len(names)
                    if not link.wanted:
                        continue
                except (RedisError, RedisClusterException, ConnectionError) as exc:
                    log.info("cluster failover not settled yet: %s", type(exc).__name__)
                await asyncio.sleep(delay)
                delay = min(delay * 2, FAILOVER_POLL_MAX_S)
        finally:
            if self._followers.get(node_name) is asyncio.current_task():
                del self._followers[node_name]

    def _link_restored(self, node_name: str) -> None:
        self._lost.discard(node_name)
        if not self._lost and self._listener is not None:
            self._listener.on_connection_restored()
