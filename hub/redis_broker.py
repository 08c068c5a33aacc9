"""Redis brokers: plain pub/sub on one server, and sharded pub/sub (SPUBLISH/SSUBSCRIBE) on a cluster."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.cluster import RedisCluster
from redis.backoff import NoBackoff
from redis.exceptions import RedisError
from redis.retry import Retry

from hub.broker import Broker, BrokerListener
from hub.pubsub_link import PubSubLink

if TYPE_CHECKING:
    from redis.asyncio.cluster import ClusterNode

CONNECT_TIMEOUT_S = 2.0
STARTUP_TIMEOUT_S = 10.0
PUBLISH_CONNECTIONS = 32


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
        assert self._publisher is not None, "broker not started"
        names = list(channels)
        try:
            if len(names) == 1:
                await self._publisher.publish(names[0], data)
                return
            async with self._publisher.pipeline(transaction=False) as pipe:
                for name in names:
                    pipe.publish(name, data)
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

    One subscriber connection per primary that holds a wanted channel. Slot migrations while
    subscribed are not followed: Redis ends those subscriptions and the link reconnects, after which
    the channel is subscribed again on its (possibly old) node; rebalance with nodes restarted.
    """

    def __init__(self, *, url: str, retry_max_s: float = 5.0) -> None:
        self._url = url
        self._retry_max_s = retry_max_s
        self._cluster: RedisCluster | None = None
        self._listener: BrokerListener | None = None
        self._links: dict[str, PubSubLink] = {}
        self._lost: set[str] = set()

    async def on_startup(self, listener: BrokerListener) -> None:
        """Discover the cluster's slots; links to primaries open lazily on first subscribe."""
        self._listener = listener
        self._cluster = RedisCluster.from_url(self._url, socket_connect_timeout=CONNECT_TIMEOUT_S)
        await self._cluster.initialize()

    async def on_shutdown(self) -> None:
        """Close every link and the cluster client."""
        for link in self._links.values():
            await link.stop()
        self._links.clear()
        if self._cluster is not None:
            await self._cluster.aclose()
            self._cluster = None

    async def publish(self, data: bytes, channels: Iterable[str]) -> None:
        """SPUBLISH ``data`` on each channel (each goes to its slot's primary)."""
        assert self._cluster is not None, "broker not started"
        try:
            for name in channels:
                await self._cluster.spublish(name, data)
        except RedisError as exc:
            raise ConnectionError(f"publish failed: {type(exc).__name__}") from exc

    async def subscribe(self, channels: Iterable[str]) -> None:
        """SSUBSCRIBE each channel on its primary and wait for confirmation."""
        for node_name, names in self._by_node(channels).items():
            link = self._links.get(node_name) or await self._open_link(node_name)
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
            node: ClusterNode | None = self._cluster.get_node_from_key(name)
            if node is None:
                raise ConnectionError(f"no cluster node owns channel {name!r}")
            grouped.setdefault(node.name, []).append(name)
        return grouped

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
        self._links[node_name] = link
        await link.start(wait_s=STARTUP_TIMEOUT_S)
        return link

    def _link_lost(self, node_name: str) -> None:
        first = not self._lost
        self._lost.add(node_name)
        if first and self._listener is not None:
            self._listener.on_connection_lost()

    def _link_restored(self, node_name: str) -> None:
        self._lost.discard(node_name)
        if not self._lost and self._listener is not None:
            self._listener.on_connection_restored()
