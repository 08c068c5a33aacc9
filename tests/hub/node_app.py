"""A test node: the hub behind a small Litestar app with token auth, a Redis-backed history and ``/test/*`` drivers.

Run as ``python tests/hub/node_app.py --port P --redis URL [--config JSON] [--broker memory|redis|redis-cluster]``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import msgspec
import redis.asyncio as aioredis
import uvicorn
from litestar import Litestar, get, post
from litestar.connection import WebSocket
from litestar.datastructures import State
from litestar.exceptions import HTTPException
from redis.asyncio.cluster import RedisCluster

from hub import (
    Broker,
    ClientFrame,
    FrameContext,
    Hub,
    HubApp,
    HubConfig,
    MemoryBroker,
    Principal,
    RedisBroker,
    ReplayEvent,
    ReplayResult,
    ServerFrame,
    ShardedRedisBroker,
)
from hub.config import BrokerKind
from hub.draining import DrainingServer
from hub.outbox import Backlog
from hub.topics import TopicError, local_part, namespace_of

TEST_CONFIG = HubConfig(
    heartbeat_interval_s=1.0,
    heartbeat_timeout_s=3.0,
    send_queue_size=64,
    rate_limit_burst=30,
    rate_limit_per_s=30.0,
    max_connections_per_user=4,
    presence_ttl_s=6.0,
    typing_ttl_s=2.0,
    max_replay=50,
    allowed_origins=["http://good.example"],
    close_timeout_s=2.0,
)
PAGE = 20


def parse_token(token: str | None, via: str) -> Principal | None:
    """``"u1.acme.s1"`` or ``"u1.acme.s1.<expires_at_ms>"`` -> a principal; anything else -> ``None``."""
    if not token:
        return None
    parts = token.split(".")
    if len(parts) not in (3, 4) or parts[0] == "bad":
        return None
    expires_at = int(parts[3]) / 1000 if len(parts) == 4 else None
    return Principal(user_id=parts[0], namespace=parts[1], session_id=parts[2], expires_at=expires_at, via=via)  # type: ignore[arg-type]


async def authenticate(socket: WebSocket[Any, Any, Any]) -> Principal | None:
    """Bearer header, then ``?ticket=``, then the ``fh_session`` cookie."""
    header = socket.headers.get("authorization", "")
    if header.startswith("Bearer "):
        return parse_token(header[7:], "bearer")
    if "ticket" in socket.query_params:
        return parse_token(socket.query_params["ticket"], "ticket")
    return parse_token(socket.cookies.get("fh_session"), "cookie")


def history_keys(topic: str) -> tuple[str, str]:
    namespace, rest = namespace_of(topic), local_part(topic)
    return f"t:{namespace}:test:seq:{rest}", f"t:{namespace}:test:hist:{rest}"


class Echo(ClientFrame, tag="echo"):
    """A frame type another package would define (chat's ``send``, say)."""

    text: str


class Explode(ClientFrame, tag="explode"):
    """A frame whose handler fails."""


class Echoed(ServerFrame, tag="echoed"):
    text: str
    user_id: str


async def handle_echo(ctx: FrameContext, frame: Echo) -> None:
    ctx.reply(Echoed(text=frame.text, user_id=ctx.principal.user_id))


async def handle_explode(ctx: FrameContext, frame: Explode) -> None:
    raise RuntimeError("handler failure on purpose")


class Publish(msgspec.Struct):
    topic: str
    payload: dict[str, Any]
    seq: int | None = None


class Append(msgspec.Struct):
    topic: str
    payload: dict[str, Any]
    publish: bool = True


class Membership(msgspec.Struct):
    namespace: str
    user_id: str
    topic: str


class SessionClose(msgspec.Struct):
    session_id: str


def create_app(
    redis_url: str, config: HubConfig = TEST_CONFIG, broker_kind: BrokerKind = "redis", broker_url: str | None = None
) -> Litestar:
    """The test node's app; ``broker_url`` puts the broker on another Redis than the store's."""
    store: Any
    broker: Broker
    if broker_kind == "redis-cluster":
        store = RedisCluster.from_url(redis_url)
        broker = ShardedRedisBroker(url=redis_url)
    else:
        store = aioredis.Redis.from_url(redis_url)
        broker = MemoryBroker() if broker_kind == "memory" else RedisBroker(url=broker_url or redis_url)
    hub = Hub(config=config, broker=broker, redis=store, authenticator=authenticate)

    async def subscriptions(principal: Principal) -> list[str]:
        if principal.user_id == "broken":
            raise RuntimeError("subscription provider failure on purpose")
        members = await store.smembers(f"t:{principal.namespace}:test:subs:{principal.user_id}")
        return sorted(m.decode() for m in members)

    async def replay(principal: Principal, topic: str, after: int | None, limit: int) -> ReplayResult:
        acl = f"t:{namespace_of(topic)}:test:acl:{local_part(topic)}"
        if not await store.exists(acl):
            return ReplayResult(status="not_found")
        if not await store.sismember(acl, principal.user_id):
            return ReplayResult(status="forbidden")
        if after is None:
            return ReplayResult()
        seq_key, hist_key = history_keys(topic)
        latest = int(await store.get(seq_key) or 0)
        upto = min(latest, after + min(limit, PAGE))
        wanted = list(range(after + 1, upto + 1))
        payloads = await store.hmget(hist_key, wanted) if wanted else []
        events = [ReplayEvent(seq, p) for seq, p in zip(wanted, payloads, strict=True) if p is not None]
        # A test may make the history slow to answer (after its snapshot), like a busy database.
        delay_ms = await store.get(f"t:{namespace_of(topic)}:test:replay_delay_ms")
        if delay_ms:
            await asyncio.sleep(int(delay_ms) / 1000)
        return ReplayResult(events=events, complete=upto >= latest)

    hub.register_subscription_provider(subscriptions)
    hub.register_replay_provider("conv:", replay)
    hub.register_handler("echo", Echo, handle_echo)
    hub.register_handler("explode", Explode, handle_explode)

    @get("/test/health")
    async def health() -> dict[str, Any]:
        return {"node": hub.node_id, "connections": hub.connection_count}

    @post("/test/publish")
    async def publish(data: Publish) -> None:
        await hub.publish(data.topic, msgspec.json.encode(data.payload), seq=data.seq)

    @post("/test/append")
    async def append(data: Append) -> dict[str, int]:
        # Like a chat write: take the next seq and commit, then publish after the commit.
        seq_key, hist_key = history_keys(data.topic)
        seq = int(await store.incr(seq_key))
        body = msgspec.json.encode({**data.payload, "seq": seq})
        await store.hset(hist_key, str(seq), body)
        if data.publish:
            await hub.publish(data.topic, body, seq=seq)
        return {"seq": seq}

    @post("/test/add_topic")
    async def add_topic(data: Membership) -> None:
        try:
            await hub.add_topic(data.namespace, data.user_id, data.topic)
        except TopicError as exc:
            raise HTTPException(status_code=400, detail=str(exc)) from exc

    @post("/test/remove_topic")
    async def remove_topic(data: Membership) -> None:
        await hub.remove_topic(data.namespace, data.user_id, data.topic)

    @post("/test/close_session")
    async def close_session(data: SessionClose) -> None:
        await hub.close_session(data.session_id)

    closed_sessions: list[str] = []
    hub.register_session_listener(closed_sessions.append)

    @get("/test/closed_sessions")
    async def sessions_closed() -> list[str]:
        return closed_sessions

    @get("/test/backlog")
    async def backlog() -> Backlog:
        return hub.publisher.backlog

    @get("/test/presence")
    async def presence(namespace: str, user_id: str) -> dict[str, Any]:
        return {
            "online": await hub.presence.is_online(namespace, user_id),
            "status": await hub.presence.status(namespace, user_id),
            "last_seen": await hub.presence.last_seen(namespace, user_id),
        }

    @get("/test/online")
    async def online(topic: str) -> list[str]:
        return sorted(await hub.presence.online_in_topic(topic))

    @contextlib.asynccontextmanager
    async def close_store(_: Litestar) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await store.aclose()

    return HubApp(
        route_handlers=[
            hub.route_handler("/ws"),
            health,
            publish,
            append,
            add_topic,
            remove_topic,
            close_session,
            sessions_closed,
            presence,
            online,
            backlog,
        ],
        lifespan=[close_store, hub],
        state=State({"hub": hub}),
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--redis", required=True)
    parser.add_argument("--config", default=None, help="JSON overrides of the test HubConfig")
    parser.add_argument("--broker", default="redis", choices=["memory", "redis", "redis-cluster"])
    parser.add_argument("--broker-redis", default=None, help="the broker's Redis, when not the store's")
    args = parser.parse_args()
    config = TEST_CONFIG
    if args.config:
        config = msgspec.convert({**msgspec.to_builtins(TEST_CONFIG), **msgspec.json.decode(args.config)}, HubConfig)
    app = create_app(args.redis, config, args.broker, args.broker_redis)
    server_config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=args.port,
        loop="uvloop",
        ws="websockets-sansio",
        ws_per_message_deflate=False,
        log_level="warning",
        timeout_graceful_shutdown=5,
    )
    DrainingServer(server_config, app.state.hub).run()


if __name__ == "__main__":
    main()
