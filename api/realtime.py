"""The hub wired into the app: who a socket is (ticket, Bearer token or session cookie), session revocation, and
identity changes reaching every node's principal cache."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from api.auth.middleware import presented_token
from api.auth.services import AuthService
from api.logs import bind_user
from channels.realtime import CONVERSATION_PREFIX
from hub import Broker, Hub, HubConfig, Principal, RedisBroker, ShardedRedisBroker
from hub.observer import NOOP_OBSERVER
from hub.redis_client import RedisClient, redis_client

if TYPE_CHECKING:
    from uuid import UUID

    from litestar.connection import WebSocket

    from api.auth.principal_cache import PrincipalCache
    from api.runtime import Runtime
    from api.settings import Settings
    from hub.observer import HubObserver

log = logging.getLogger("fieldhub.realtime")


async def authenticate_socket(socket: WebSocket[Any, Any, Any]) -> Principal | None:
    """A one-time ``?ticket=``, a Bearer token, or the session cookie, in that order.

    Whatever the way in, the session behind it must still be live. The hub itself checks the
    ``Origin`` of cookie-authenticated sockets.
    """
    runtime: Runtime = socket.app.state.runtime
    auth = AuthService(runtime=runtime)
    ticket = socket.query_params.get("ticket")
    if ticket:
        holder = await auth.redeem_ws_ticket(ticket)
        if holder is None:
            return None
        user = await auth.resolve_session_id(holder.tenant_id, holder.session_id)
        via = "ticket"
    else:
        presented = presented_token(socket)
        if presented is None:
            return None
        token, via = presented
        user = await auth.resolve(token, via=via)
    if user is None:
        return None
    # The socket's whole life runs in this task: its log lines carry the user from here on.
    bind_user(user.id, user.tenant_id)
    return Principal(
        user_id=str(user.id),
        namespace=str(user.tenant_id),
        session_id=str(user.session_id),
        expires_at=user.expires_at.timestamp(),
        via=via,  # type: ignore[arg-type]
    )


def build_hub(settings: Settings, *, observer: HubObserver = NOOP_OBSERVER) -> tuple[Hub, RedisClient]:
    """The node's hub and the Redis client holding its presence (the caller closes the client);
    ``observer`` (metrics) is told what the hub does."""
    url = settings.redis_url or ""
    redis = redis_client(url, cluster=settings.redis_cluster)
    broker: Broker = ShardedRedisBroker(url=url) if settings.redis_cluster else RedisBroker(url=url)
    # Presence reaches the people one shares a conversation with; inbox topics have one listener.
    config = HubConfig(allowed_origins=list(settings.allowed_origins), presence_prefixes=[CONVERSATION_PREFIX])
    hub = Hub(
        config=config,
        broker=broker,
        redis=redis,
        authenticator=authenticate_socket,
        observer=observer,
    )
    return hub, redis


def close_revoked_sockets(hub: Hub) -> Any:
    """A session listener: revoked sessions lose their sockets on every node."""

    async def close(session_ids: list[UUID]) -> None:
        for session_id in session_ids:
            try:
                await hub.close_session(str(session_id))
            except ConnectionError:
                # Local sockets are closed already; other nodes re-check sessions at expiry.
                log.warning("could not announce a revoked session to other nodes")

    return close


PRINCIPALS_CHANGED = "principals_changed"
"""The hub notice of a committed change to users, roles or grants: every node empties its principal cache."""


def share_identity_changes(hub: Hub, principals: PrincipalCache) -> None:
    """Empty every serving process's principal cache when any of them commits a change to users, roles or
    grants (this process's is emptied at once by the cache itself)."""
    hub.register_notice_listener(PRINCIPALS_CHANGED, lambda _: principals.clear())
    sending: set[asyncio.Task[None]] = set()

    async def tell_every_node() -> None:
        try:
            await hub.notify_nodes(PRINCIPALS_CHANGED)
        except ConnectionError:
            # Other nodes see the change when their entries expire (FIELDHUB_AUTH_CACHE_SECONDS).
            log.warning("could not announce an identity change to other nodes")

    def on_change() -> None:
        task = asyncio.get_running_loop().create_task(tell_every_node())
        sending.add(task)
        task.add_done_callback(sending.discard)

    principals.on_identity_change = on_change
