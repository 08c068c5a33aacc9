"""The wire envelope: msgspec tagged unions (tag field ``type``) for client and server JSON frames."""

from __future__ import annotations

from typing import Literal

import msgspec

ErrorCode = Literal[
    "invalid_frame", "unknown_type", "too_large", "rate_limited", "forbidden", "not_found", "unavailable"
]
UserStatus = Literal["online", "away", "dnd"]
PresenceStatus = Literal["online", "away", "dnd", "offline"]
ResumeOutcome = Literal["recovered", "too_far", "no_history", "unavailable"]


# --- client -> server -------------------------------------------------------------------------


class ClientFrame(msgspec.Struct, tag_field="type", kw_only=True):
    """Base of every client frame; subclasses set ``tag="<type>"``. ``ref`` is echoed in replies."""

    ref: str | None = None


class Ping(ClientFrame, tag="ping"):
    """Client liveness probe; answered with ``pong``."""


class Pong(ClientFrame, tag="pong"):
    """Answer to the server's ``ping``."""


class Subscribe(ClientFrame, tag="subscribe"):
    """Listen to ``topic``; with ``since``, first replay every event with ``seq > since``."""

    topic: str
    since: int | None = None


class Unsubscribe(ClientFrame, tag="unsubscribe"):
    """Stop listening to ``topic``."""

    topic: str


class Typing(ClientFrame, tag="typing"):
    """The user is (``active``) or stopped (``not active``) typing in ``topic``."""

    topic: str
    active: bool = True


class SetStatus(ClientFrame, tag="status"):
    """The user chooses a presence status, shown on all their devices."""

    status: UserStatus


BUILTIN_CLIENT_FRAMES: tuple[type[ClientFrame], ...] = (Ping, Pong, Subscribe, Unsubscribe, Typing, SetStatus)


class FrameHead(msgspec.Struct):
    """Decoded from a frame that failed validation, to tell ``unknown_type`` from ``invalid_frame``."""

    type: str | None = None
    ref: str | None = None


# --- server -> client -------------------------------------------------------------------------


class ServerFrame(msgspec.Struct, tag_field="type", kw_only=True, omit_defaults=True):
    """Base of every server frame; ``ref`` is set on replies to a client frame."""

    ref: str | None = None


class Limits(msgspec.Struct, kw_only=True):
    """The per-connection limits a client must respect, announced in ``hello``."""

    max_frame_bytes: int
    rate_limit_burst: int
    rate_limit_per_s: float
    send_queue_size: int
    max_replay: int


class Hello(ServerFrame, tag="hello"):
    """First frame on every socket."""

    connection_id: str
    user_id: str
    heartbeat_interval_ms: int
    heartbeat_timeout_ms: int
    limits: Limits
    topics: list[str]
    session_expires_at: float | None = None


class ServerPing(ServerFrame, tag="ping"):
    """Heartbeat; the client answers ``pong`` (any frame counts as alive)."""


class ServerPong(ServerFrame, tag="pong"):
    """Answer to the client's ``ping``."""


class Subscribed(ServerFrame, tag="subscribed"):
    """``topic`` is live on this socket; replayed events (if any) were sent before this frame.

    ``resume`` says what happened to a requested ``since``: ``recovered`` (no gap), ``too_far``
    (refetch over HTTP), ``no_history`` (the topic keeps none), ``unavailable`` (try again).
    """

    topic: str
    resume: ResumeOutcome | None = None
    seq: int | None = None


class Unsubscribed(ServerFrame, tag="unsubscribed"):
    """``topic`` no longer reaches this socket (asked for, or membership removed)."""

    topic: str


class Error(ServerFrame, tag="error"):
    """A refused frame; the socket stays open."""

    code: ErrorCode
    message: str
    retry_after: float | None = None


class Presence(ServerFrame, tag="presence"):
    """A user's presence changed; ``last_seen`` (unix seconds) is set when ``offline``."""

    user_id: str
    status: PresenceStatus
    last_seen: float | None = None


class TypingNotice(ServerFrame, tag="typing"):
    """``user_id`` is typing in ``topic``; hide it after ``expires_in_ms`` without a refresh."""

    topic: str
    user_id: str
    active: bool
    expires_in_ms: int


class Reconnect(ServerFrame, tag="reconnect"):
    """The node is going away: reconnect (to any node) after ``after_ms`` and resume."""

    reason: str
    after_ms: int


class Resync(ServerFrame, tag="resync"):
    """Events may have been missed on ``topics`` (broker outage): resume each with ``since``."""

    reason: str
    topics: list[str]


class Event(msgspec.Struct, tag_field="type", tag="event"):
    """A published event; ``event`` is the publisher's JSON, embedded verbatim (never re-encoded)."""

    topic: str
    seq: int | None
    event: msgspec.Raw


_encoder = msgspec.json.Encoder()


def encode(frame: ServerFrame | Event) -> bytes:
    """Encode one server frame to JSON bytes."""
    return _encoder.encode(frame)


def encode_text(frame: ServerFrame | Event) -> str:
    """Encode one server frame to the ``str`` an ASGI text message carries."""
    return _encoder.encode(frame).decode()
