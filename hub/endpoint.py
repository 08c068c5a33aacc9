"""The WebSocket endpoint: authenticate the upgrade, greet, read frames, clean up on close."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import msgspec
from litestar import Litestar, WebSocket, websocket
from litestar.connection.base import empty_receive, empty_send
from litestar.enums import ScopeType

from hub.connection import (
    CLOSE_INTERNAL,
    CLOSE_RESTART,
    CLOSE_SESSION_EXPIRED,
    CLOSE_TOO_LARGE,
    CLOSE_TOO_MANY_CONNECTIONS,
    Connection,
)
from hub.frames import Error, FrameHead, Hello, Limits, Reconnect, encode_text
from hub.topics import TopicError, check_namespace

if TYPE_CHECKING:
    from litestar.handlers import WebsocketRouteHandler
    from litestar.types import Receive, Scope, Send

    from hub.core import HubCore
    from hub.dispatch import Dispatcher
    from hub.hooks import Authenticator, Principal

log = logging.getLogger("hub.endpoint")

_head_decoder = msgspec.json.Decoder(FrameHead)


SERVER_SEND_KEY = "fieldhub.server_send"


class HubApp(Litestar):
    """Litestar, keeping each WebSocket's ``send`` as the server gave it, for :class:`HubWebSocket`.

    Litestar's app-level exception middleware wraps ``send`` to track HTTP responses, a coroutine
    layer per frame that a socket never needs (about 6 % of a node's CPU at 1,500 events/s).
    """

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:  # type: ignore[override]
        if scope["type"] == ScopeType.WEBSOCKET:
            scope[SERVER_SEND_KEY] = send  # type: ignore[literal-required]
        await super().__call__(scope, receive, send)


class HubWebSocket(WebSocket[Any, Any, Any]):
    """Litestar's ``WebSocket`` that also keeps the server's own ASGI ``send``.

    The writer sends every frame through ``raw_send``, skipping the wrappers' per-frame work (a
    send after the client left raises the server's own error instead, which the writer handles).
    Under :class:`HubApp` that is the server's ``send``; elsewhere, the one the route was given.
    """

    raw_send: Send

    def __init__(self, scope: Scope, receive: Receive = empty_receive, send: Send = empty_send) -> None:
        super().__init__(scope, receive, send)
        self.raw_send = scope.get(SERVER_SEND_KEY, send)  # type: ignore[assignment]


class Endpoint:
    """Serves one socket from upgrade to close. One instance serves every socket of a node."""

    def __init__(
        self, *, core: HubCore, dispatcher: Dispatcher, authenticator: Authenticator, accepting: Callable[[], bool]
    ) -> None:
        self._core = core
        self._dispatcher = dispatcher
        self._authenticator = authenticator
        self._accepting = accepting

    def route_handler(self, path: str) -> WebsocketRouteHandler:
        """The Litestar route serving ``path``."""

        async def hub_socket(socket: WebSocket[Any, Any, Any]) -> None:
            await self.serve(socket)

        route = websocket(path, name="hub", signature_namespace={"WebSocket": WebSocket}, websocket_class=HubWebSocket)
        return route(hub_socket)

    async def serve(self, socket: WebSocket[Any, Any, Any]) -> None:
        """Run one socket's whole life."""
        if not self._accepting():
            await _refuse(socket, 503, "shutting down")
            return
        principal = await self._authenticate(socket)
        if principal is None:
            return
        core = self._core
        conn = Connection(
            socket=socket,
            send=socket.raw_send if isinstance(socket, HubWebSocket) else None,
            principal=principal,
            connection_id=uuid.uuid4().hex,
            config=core.config,
            observer=core.observer,
        )
        await socket.accept()
        opened = await core.open(conn)
        if opened == "refused":
            log.info("user %s is at the connection cap; closing 4029", principal.user_id)
            await socket.close(CLOSE_TOO_MANY_CONNECTIONS, "too_many_connections")
            return
        expiry = self._schedule_expiry(conn)
        try:
            topics = [name for name in await core.initial_topics(conn) if name not in (conn.removed_early or ())]
            # Topics are live (broker subscriptions confirmed) before hello goes out, so a client may
            # rely on hello; events heard meanwhile wait behind it in the queue.
            for name in topics:
                await core.join_topic(conn, name)
            conn.removed_early = None
            conn.send_first(encode_text(self._hello(conn, sorted(conn.topics))))
            core.observer.frames_sent("hello", 1)
            conn.start_writer()
            if opened == "first":
                await self._announce_online(conn)
            await self._read_loop(conn)
        except Exception:
            # One socket's failure must not reach the server (which would close it 4500, unlogged).
            log.exception("connection %s failed; closing 1011", conn.id)
            conn.close(CLOSE_INTERNAL, "internal_error", flush=False)
            conn.start_writer()  # if it failed before hello, the writer still has the close to send
        finally:
            if expiry is not None:
                expiry.cancel()
            if conn.close_code is None:
                conn.mark_closed()  # the client left: nothing more to write
            await conn.wait_closed()
            conn.mark_closed()
            await core.close(conn)

    async def _announce_online(self, conn: Connection) -> None:
        # Presence is advisory: the socket is live and greeted, so a Redis hiccup here is logged, not fatal.
        try:
            await self._core.announce_online(conn)
        except Exception:
            log.exception("announcing connection %s online failed", conn.id)

    async def _authenticate(self, socket: WebSocket[Any, Any, Any]) -> Principal | None:
        try:
            principal = await self._authenticator(socket)
        except Exception:
            log.exception("authenticator failed")
            await _refuse(socket, 500, "authentication unavailable")
            return None
        if principal is None:
            log.info("refused an unauthenticated socket")
            await _refuse(socket, 401, "unauthenticated")
            return None
        try:
            check_namespace(principal.namespace)
        except TopicError:
            log.error("authenticator returned a malformed namespace; refusing")
            await _refuse(socket, 403, "forbidden")
            return None
        if principal.via == "cookie":
            origin = socket.headers.get("origin")
            if origin is None or origin not in self._core.config.allowed_origins:
                # Cookie auth rides along on cross-site sockets: refuse foreign origins.
                log.warning("refused a cookie socket from a foreign origin")
                await _refuse(socket, 403, "origin not allowed")
                return None
        if principal.expires_at is not None and principal.expires_at <= time.time():
            await _refuse(socket, 401, "session expired")
            return None
        return principal

    def _hello(self, conn: Connection, topics: list[str]) -> Hello:
        config = self._core.config
        return Hello(
            connection_id=conn.id,
            user_id=conn.principal.user_id,
            heartbeat_interval_ms=int(config.heartbeat_interval_s * 1000),
            heartbeat_timeout_ms=int(config.heartbeat_timeout_s * 1000),
            limits=Limits(
                max_frame_bytes=config.max_frame_bytes,
                rate_limit_burst=config.rate_limit_burst,
                rate_limit_per_s=config.rate_limit_per_s,
                send_queue_size=config.send_queue_size,
                max_replay=config.max_replay,
            ),
            topics=topics,
            session_expires_at=conn.principal.expires_at,
        )

    def _schedule_expiry(self, conn: Connection) -> asyncio.TimerHandle | None:
        expires_at = conn.principal.expires_at
        if expires_at is None:
            return None
        loop = asyncio.get_running_loop()
        delay = max(0.0, expires_at - time.time())
        return loop.call_later(delay, conn.close, CLOSE_SESSION_EXPIRED, "session_expired")

    async def _read_loop(self, conn: Connection) -> None:
        receive = conn.socket.receive
        handle = self._dispatcher.handle
        max_bytes = self._core.config.max_frame_bytes
        limited_until = 0.0
        while True:
            message = await receive()
            if message["type"] != "websocket.receive":
                return
            data: str | bytes | None = message.get("text")
            if data is None:
                data = message.get("bytes") or b""
            now = time.monotonic()
            conn.last_heard = now
            if conn.close_code is not None:
                continue  # closing: wait for the client's close, ignore its frames
            if _too_large(data, max_bytes):
                log.info("connection %s sent a frame over %d bytes; closing 1009", conn.id, max_bytes)
                conn.send_frame(Error(code="too_large", message=f"frames are limited to {max_bytes} bytes"))
                conn.close(CLOSE_TOO_LARGE, "too_large")
                continue
            wait = conn.bucket.take()
            if wait:
                if now >= limited_until:
                    # One error per limited stretch, so a flood cannot flood the replies too.
                    limited_until = now + wait
                    conn.send_frame(
                        Error(
                            ref=_ref_of(data),
                            code="rate_limited",
                            message="too many frames",
                            retry_after=round(wait, 3),
                        )
                    )
                continue
            await handle(conn, data)

    def close_all(self, reason: str) -> None:
        """Ask every local socket to reconnect elsewhere and close it with 1012 (queue flushed)."""
        for index, conn in enumerate(self._core.registry):
            # Spread the reconnects over two seconds so the other nodes are not stampeded.
            conn.send_frame(Reconnect(reason=reason, after_ms=(index * 37) % 2000))
            conn.close(CLOSE_RESTART, reason)


def _too_large(data: str | bytes, limit: int) -> bool:
    if len(data) > limit:
        return True
    if isinstance(data, str) and len(data) * 4 > limit:
        return len(data.encode()) > limit
    return False


def _ref_of(data: str | bytes) -> str | None:
    try:
        return _head_decoder.decode(data).ref
    except Exception:
        return None


async def _refuse(socket: WebSocket[Any, Any, Any], status: int, reason: str) -> None:
    """Refuse the upgrade: an HTTP status where the server supports it, else close before accept (403)."""
    if "websocket.http.response" in (socket.scope.get("extensions") or {}):
        body = reason.encode()
        await socket.send(
            {
                "type": "websocket.http.response.start",
                "status": status,
                "headers": [(b"content-type", b"text/plain"), (b"content-length", b"%d" % len(body))],
            }
        )
        await socket.send({"type": "websocket.http.response.body", "body": body, "more_body": False})
        return
    await socket.close(code=1008, reason=reason)
