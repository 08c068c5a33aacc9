"""Chat test fixtures: two ``fieldhub serve`` nodes on a Redis Cluster."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from api.settings import Settings
from bench.redis_cluster import LocalRedisCluster
from tests.nodes import AppNode


@pytest.fixture
async def cluster_nodes(settings: Settings, replicated_cluster: LocalRedisCluster) -> AsyncIterator[list[AppNode]]:
    """Two app nodes with ``FIELDHUB_REDIS_URL`` naming the cluster (one seed node; they find the rest)."""
    env = {"FIELDHUB_REDIS_URL": replicated_cluster.url, "FIELDHUB_REDIS_CLUSTER": "true"}
    pair = [AppNode(settings, env=env), AppNode(settings, env=env)]
    try:
        await asyncio.gather(*(node.ready() for node in pair))
        yield pair
    finally:
        for node in pair:
            node.stop()
