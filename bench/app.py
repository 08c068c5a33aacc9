"""The benchmark node: the hub with a stand-in token authenticator and a chat-like ``send`` frame.

Configured by ``BENCH_REDIS_URL`` (a Redis Cluster with ``BENCH_REDIS_CLUSTER=1``) and ``BENCH_ROOMS``;
token ``b17.bench.s17`` is user ``b17``, in room ``17 % rooms``.
With ``BENCH_DURABLE=1`` rooms keep their events (in Redis, standing in for the chat's Postgres) and
a replay provider serves them, so clients of a killed node can resume elsewhere.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator
from typing import Any, cast

import msgspec
from litestar import Litestar, get
from litestar.connection import WebSocket

from hub import (
    Broker,
    ClientFrame,
    FrameContext,
    Hub,
    HubApp,
    HubConfig,
    Principal,
    RedisBroker,
    ShardedRedisBroker,
    freeze_startup_heap,
)
from hub.hooks import ReplayEvent, ReplayResult
from hub.redis_client import redis_client

NAMESPACE = "bench"


class Send(ClientFrame, tag="send"):
    """A chat-like message into a room."""

    room: int
    id: int
    t: float
    body: str


class RoomEvent(msgspec.Struct):
    id: int
    room: int
    t: float
    body: str


def room_topic(room: int) -> str:
    return f"t:{NAMESPACE}:room:{room}"


def history_key(room: int) -> str:
    return f"t:{NAMESPACE}:history:{room}"


async def authenticate(socket: WebSocket[Any, Any, Any]) -> Principal | None:
    """``Authorization: Bearer <user>.bench.<session>`` or ``?ticket=`` of the same shape."""
    header = socket.headers.get("authorization", "")
    token = header[7:] if header.startswith("Bearer ") else socket.query_params.get("ticket", "")
    parts = token.split(".")
    if len(parts) != 3 or parts[1] != NAMESPACE:
        return None
    return Principal(user_id=parts[0], namespace=NAMESPACE, session_id=parts[2], via="bearer")


def create_app() -> Litestar:
    """The benchmark app, configured from the environment."""
    redis_url = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
    rooms = int(os.environ.get("BENCH_ROOMS", "50"))
    cluster = os.environ.get("BENCH_REDIS_CLUSTER") == "1"
    store = redis_client(redis_url, cluster=cluster)
    broker: Broker = ShardedRedisBroker(url=redis_url) if cluster else RedisBroker(url=redis_url)
    config = HubConfig(
        rate_limit_burst=1_000, rate_limit_per_s=1_000.0, send_queue_size=1_024, max_connections_per_user=4
    )
    hub = Hub(config=config, broker=broker, redis=store, authenticator=authenticate)
    encoder = msgspec.json.Encoder()

    async def rooms_of(principal: Principal) -> list[str]:
        if principal.user_id.startswith("b"):
            return [room_topic(int(principal.user_id[1:]) % rooms)]
        return []

    durable = os.environ.get("BENCH_DURABLE") == "1"

    async def on_send(ctx: FrameContext, frame: Send) -> None:
        payload = encoder.encode(RoomEvent(id=frame.id, room=frame.room, t=frame.t, body=frame.body))
        if durable:
            # One sender per room numbers its events 1, 2, 3...: that number is the topic's seq.
            await store.zadd(history_key(frame.room), {payload: frame.id})
            await hub.publish(room_topic(frame.room), payload, seq=frame.id)
        else:
            await hub.publish(room_topic(frame.room), payload)

    async def replay(principal: Principal, topic: str, after: int | None, limit: int) -> ReplayResult:
        room = int(topic.rpartition(":")[2])
        if topic not in await rooms_of(principal):
            return ReplayResult(status="forbidden")
        if after is None:
            return ReplayResult()
        found = await store.zrangebyscore(
            history_key(room), f"({after}", "+inf", start=0, num=limit + 1, withscores=True
        )
        rows = cast("list[tuple[bytes, float]]", found)
        events = [ReplayEvent(seq=int(score), payload=member) for member, score in rows[:limit]]
        return ReplayResult(events=events, complete=len(rows) <= limit)

    hub.register_subscription_provider(rooms_of)
    hub.register_handler("send", Send, on_send)
    if durable:
        hub.register_replay_provider("room:", replay)

    @get("/health")
    async def health() -> dict[str, int]:
        return {"connections": hub.connection_count}

    @contextlib.asynccontextmanager
    async def close_store(_: Litestar) -> AsyncIterator[None]:
        try:
            freeze_startup_heap()  # as fieldhub serve does
            yield
        finally:
            await store.aclose()

    return HubApp(route_handlers=[hub.route_handler("/ws"), health], lifespan=[close_store, hub])
