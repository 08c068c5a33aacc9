"""The seams other packages plug into the hub: who a socket is, which topics it gets, history, frames."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Literal, Protocol, TypeVar

import msgspec

if TYPE_CHECKING:
    from litestar.connection import WebSocket

    from hub.frames import ErrorCode, ServerFrame

AuthVia = Literal["cookie", "ticket", "bearer"]
ReplayStatus = Literal["ok", "too_far", "forbidden", "not_found"]


class Principal(msgspec.Struct, frozen=True, kw_only=True):
    """The authenticated owner of a socket, as the hub sees it."""

    user_id: str
    namespace: str
    """The tenant, opaque to the hub; every topic the socket gets starts with ``t:<namespace>:``."""
    session_id: str
    expires_at: float | None = None
    """Unix time at which the socket is closed with 4002; ``None`` for no expiry."""
    via: AuthVia = "bearer"
    """How the socket authenticated; ``cookie`` sockets must come from an allowed ``Origin``."""


class ReplayEvent(msgspec.Struct, frozen=True):
    """One durable event of a topic: its ``seq`` and the publisher's JSON bytes."""

    seq: int
    payload: bytes


class ReplayResult(msgspec.Struct, frozen=True, kw_only=True):
    """What a replay provider answers for one topic.

    ``status`` ``ok`` with ``complete=False`` means more events follow ``events[-1].seq``; the hub
    asks again. ``too_far`` means the gap is larger than the provider (or ``limit``) allows: the
    client refetches over HTTP. ``forbidden`` and ``not_found`` refuse the topic.
    """

    events: list[ReplayEvent] = msgspec.field(default_factory=list)
    complete: bool = True
    status: ReplayStatus = "ok"


Authenticator = Callable[["WebSocket[Any, Any, Any]"], Awaitable[Principal | None]]
"""Reads a cookie, ``?ticket=`` or ``Authorization: Bearer`` from the upgrade request.

Returns ``None`` to refuse the upgrade. Runs before the socket is accepted; it must not accept,
receive or send on the socket.
"""

SubscriptionProvider = Callable[[Principal], Awaitable[list[str]]]
"""Topics a socket listens to from the start (beside its user topic). Foreign-namespace topics are
dropped and logged."""

ReplayProvider = Callable[[Principal, str, "int | None", int], Awaitable[ReplayResult]]
"""``(principal, topic, after_seq, limit)``: events with ``seq > after_seq`` in order, at most ``limit``.

It also authorizes: it answers ``forbidden`` or ``not_found`` for a topic the principal may not
read. ``after_seq=None`` asks for authorization only (``events`` is ignored).
"""


class FrameContext(Protocol):
    """What a frame handler sees of the socket whose frame it handles."""

    @property
    def principal(self) -> Principal: ...

    @property
    def connection_id(self) -> str: ...

    @property
    def ref(self) -> str | None:
        """The ``ref`` of the frame being handled, echoed by :meth:`reply` and :meth:`error`."""
        ...

    def reply(self, frame: ServerFrame) -> None:
        """Queue ``frame`` to this socket with ``ref`` set to the handled frame's ``ref``.

        Returns before the frame is written; a socket that is gone drops it silently.
        """
        ...

    def error(self, code: ErrorCode, message: str) -> None:
        """Queue an ``error`` frame with the handled frame's ``ref``."""
        ...


FrameT = TypeVar("FrameT", bound=msgspec.Struct)
FrameHandler = Callable[[FrameContext, FrameT], Awaitable[None]]
"""``async handler(ctx, frame)`` for a client frame type registered with ``Hub.register_handler``.

Frames of one socket are handled one at a time, in arrival order. An exception is logged and
answered with ``error`` code ``unavailable``; the socket stays open.
"""
