"""The Redis client for keys (presence, tickets, counters): one server, or a Redis Cluster."""

from __future__ import annotations

from typing import TypeAlias

from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster

RedisClient: TypeAlias = Redis | RedisCluster
"""Either client: every key fieldhub writes is a single-key command or a pipeline without MULTI."""

CONNECT_TIMEOUT_S = 2.0


def redis_client(url: str, *, cluster: bool) -> RedisClient:
    """A client for ``url``; with ``cluster`` a cluster client that follows slots and failovers.

    ``url`` names any node of the cluster; the client discovers the others and, when a primary is
    lost, re-reads the slot map and retries on the promoted replica.
    """
    if cluster:
        return RedisCluster.from_url(url, socket_connect_timeout=CONNECT_TIMEOUT_S)
    return Redis.from_url(url)
