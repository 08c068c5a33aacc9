"""The hub's tunables: one frozen msgspec Struct with the defaults a single node runs well with."""

from __future__ import annotations

from typing import Literal

import msgspec

BrokerKind = Literal["memory", "redis", "redis-cluster"]
"""Which :class:`~hub.broker.Broker` carries events between nodes."""


class HubConfig(msgspec.Struct, frozen=True, kw_only=True):
    """Limits and timings of the real-time hub.

    Durations are seconds (``_s``), sizes are bytes, rates are per second.
    """

    max_frame_bytes: int = 65_536
    """A client frame above this closes the socket with 1009."""
    heartbeat_interval_s: float = 25.0
    """The server sends a ``ping`` frame this often."""
    heartbeat_timeout_s: float = 60.0
    """A socket that sent nothing (not even ``pong``) for this long is closed with 4009."""
    send_queue_size: int = 256
    """Frames waiting for one socket; beyond it the socket is closed with 4008 (slow consumer)."""
    rate_limit_burst: int = 40
    """Token-bucket size: client frames accepted in a burst."""
    rate_limit_per_s: float = 20.0
    """Token-bucket refill: sustained client frames per second."""
    max_connections_per_user: int = 16
    """Sockets one user may hold across all nodes; the next one is closed with 4029."""
    presence_ttl_s: float = 45.0
    """A connection's presence entry expires this long after its node's last refresh."""
    presence_prefixes: list[str] | None = None
    """Topics (by the part after ``t:<namespace>:``) whose listeners get presence frames; ``None``:
    every topic. Each change costs one frame per listener, so leave large rooms out."""
    typing_ttl_s: float = 6.0
    """A typing indicator expires on the clients this long after the last keystroke frame."""
    max_replay: int = 1_000
    """Most events replayed per topic on resume; a larger gap answers ``too_far``."""
    allowed_origins: list[str] = msgspec.field(default_factory=list)
    """``Origin`` values accepted for cookie-authenticated sockets (exact match, scheme://host[:port])."""
    control_channel: str = "hub:control"
    """Broker channel carrying node-to-node commands (topic changes, session closes)."""
    replay_buffer_limit: int = 10_000
    """Live events buffered per topic while its replay runs; beyond it the socket is closed with 4008."""
    close_timeout_s: float = 5.0
    """How long a close or a final flush may wait on a client that does not read."""
    broker_retry_max_s: float = 5.0
    """Ceiling of the broker's reconnect backoff."""
    publish_timeout_s: float = 5.0
    """A batch of publishes the broker has not accepted within this is retried (durable events) or
    dropped (ephemeral frames)."""
    publish_give_up_s: float = 15.0
    """A durable event still unpublished this long after it was queued is dropped, and its topic's
    listeners on every node are sent ``resync`` once the broker takes it."""

    def __post_init__(self) -> None:
        for name in (
            "max_frame_bytes",
            "send_queue_size",
            "rate_limit_burst",
            "max_connections_per_user",
            "publish_timeout_s",
            "publish_give_up_s",
        ):
            if getattr(self, name) <= 0:
                raise ValueError(f"HubConfig.{name} must be positive")
        if self.heartbeat_timeout_s <= self.heartbeat_interval_s:
            raise ValueError("HubConfig.heartbeat_timeout_s must exceed heartbeat_interval_s")
        if self.presence_ttl_s > 60:
            # The product promises a crashed node's users go offline within 60 s.
            raise ValueError("HubConfig.presence_ttl_s must be at most 60")
