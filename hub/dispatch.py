"""Frame dispatch: decode a client frame into the tagged union and route it to its handler."""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any, Union

import msgspec

from hub.frames import (
    BUILTIN_CLIENT_FRAMES,
    ClientFrame,
    Error,
    ErrorCode,
    FrameHead,
    Ping,
    Pong,
    ServerFrame,
    ServerPong,
    SetStatus,
    Subscribe,
    Typing,
    Unsubscribe,
)

if TYPE_CHECKING:
    from hub.connection import Connection
    from hub.core import HubCore
    from hub.hooks import FrameHandler, Principal
    from hub.observer import HubObserver

log = logging.getLogger("hub.dispatch")
_head_decoder = msgspec.json.Decoder(FrameHead)


class HandlerContext:
    """The :class:`~hub.hooks.FrameContext` given to registered frame handlers."""

    __slots__ = ("_conn", "_frame_type", "_observer", "_read_at", "_ref")

    def __init__(
        self,
        *,
        conn: Connection,
        ref: str | None,
        frame_type: type[ClientFrame] | None = None,
        observer: HubObserver | None = None,
    ) -> None:
        self._conn = conn
        self._ref = ref
        self._frame_type = frame_type
        self._observer = observer
        self._read_at = time.perf_counter()

    @property
    def principal(self) -> Principal:
        """Who sent the frame."""
        return self._conn.principal

    @property
    def connection_id(self) -> str:
        """The socket the frame came on."""
        return self._conn.id

    @property
    def ref(self) -> str | None:
        """The frame's ``ref``."""
        return self._ref

    def reply(self, frame: ServerFrame) -> None:
        """Queue ``frame`` with the handled frame's ``ref``."""
        self._conn.send_frame(msgspec.structs.replace(frame, ref=self._ref))
        observer, frame_type = self._observer, self._frame_type
        if observer is not None and frame_type is not None:
            observer.replied(frame_type, frame, time.perf_counter() - self._read_at)

    def error(self, code: ErrorCode, message: str) -> None:
        """Queue an ``error`` frame with the handled frame's ``ref``."""
        self._conn.send_frame(Error(ref=self._ref, code=code, message=message))


class Dispatcher:
    """Decodes client frames (built-in and registered types) and runs their handlers."""

    def __init__(self, *, core: HubCore) -> None:
        self._core = core
        self._handlers: dict[type[Any], FrameHandler[Any]] = {}
        self._types: dict[str, type[ClientFrame]] = {}
        for frame_type in BUILTIN_CLIENT_FRAMES:
            self._types[_tag_of(frame_type)] = frame_type
        self._decoder = self._build_decoder()

    def register(self, type_name: str, frame_type: type[ClientFrame], handler: FrameHandler[Any]) -> None:
        """Route client frames of ``type_name`` to ``handler``.

        Args:
            type_name: The frame's ``type`` value, e.g. ``"send"``.
            frame_type: A :class:`~hub.frames.ClientFrame` subclass declared with ``tag=type_name``.
            handler: ``async handler(ctx, frame)``.

        Raises:
            ValueError: If the type is taken or ``frame_type`` is not tagged ``type_name``.
        """
        if type_name in self._types:
            raise ValueError(f"frame type {type_name!r} is already registered")
        if not issubclass(frame_type, ClientFrame) or _tag_of(frame_type) != type_name:
            raise ValueError(f"{frame_type.__name__} must subclass ClientFrame with tag={type_name!r}")
        self._types[type_name] = frame_type
        self._handlers[frame_type] = handler
        self._decoder = self._build_decoder()

    def _build_decoder(self) -> msgspec.json.Decoder[Any]:
        return msgspec.json.Decoder(Union[tuple(self._types.values())])  # noqa: UP007

    async def handle(self, conn: Connection, data: str | bytes) -> None:
        """Decode and handle one client frame; every failure becomes an ``error`` frame."""
        try:
            frame = self._decoder.decode(data)
        except (msgspec.ValidationError, msgspec.DecodeError) as exc:
            self._core.observer.frame_received(None)
            self._refuse(conn, data, exc)
            return
        core = self._core
        core.observer.frame_received(type(frame))
        if isinstance(frame, Pong):
            return
        scope = core.frame_scope
        if scope is None:
            await self._route(conn, frame)
            return
        with scope.handling(_tag_of(type(frame)), conn.principal):
            await self._route(conn, frame)

    async def _route(self, conn: Connection, frame: ClientFrame) -> None:
        core = self._core
        if isinstance(frame, Ping):
            conn.send_frame(ServerPong(ref=frame.ref))
        elif isinstance(frame, Subscribe):
            await core.subscribe(conn, frame.topic, frame.since, frame.ref)
        elif isinstance(frame, Unsubscribe):
            await core.unsubscribe(conn, frame.topic, frame.ref)
        elif isinstance(frame, Typing):
            await core.typing_frame(conn, frame.topic, frame.active, frame.ref)
        elif isinstance(frame, SetStatus):
            await core.set_status(conn, frame.status, frame.ref)
        else:
            await self._run_handler(conn, frame)

    async def _run_handler(self, conn: Connection, frame: ClientFrame) -> None:
        handler = self._handlers[type(frame)]
        ctx = HandlerContext(conn=conn, ref=frame.ref, frame_type=type(frame), observer=self._core.observer)
        try:
            await handler(ctx, frame)
        except Exception:
            log.exception("frame handler for %r failed", _tag_of(type(frame)))
            ctx.error("unavailable", "the frame could not be handled; retry later")

    def _refuse(self, conn: Connection, data: str | bytes, exc: Exception) -> None:
        try:
            head = _head_decoder.decode(data)
        except (msgspec.ValidationError, msgspec.DecodeError):
            head = FrameHead()
        code: ErrorCode = "invalid_frame"
        message = str(exc)
        if head.type is not None and head.type not in self._types:
            code, message = "unknown_type", f"unknown frame type {head.type[:64]!r}"
        # Logged without the frame's content: it may carry message text or tokens.
        log.info("connection %s: refused frame (%s)", conn.id, code)
        conn.send_frame(Error(ref=head.ref, code=code, message=message))


def _tag_of(frame_type: type[Any]) -> str:
    config = getattr(frame_type, "__struct_config__", None)
    tag = getattr(config, "tag", None)
    return tag if isinstance(tag, str) else ""
