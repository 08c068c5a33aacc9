"""The hub's observer seam: the points where a metrics backend may count, called by the hub itself.

The hub imports nothing of ours, so it cannot know Prometheus; the application passes an object
with these methods (``api.metrics.hub.PrometheusHubObserver``) to :class:`~hub.hub.Hub`. Every
method is called on the event loop, some once per frame, so an implementation must be cheap and
must never raise or block.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from contextlib import AbstractContextManager

    from hub.frames import ClientFrame, ServerFrame
    from hub.hooks import Principal


class HubObserver(Protocol):
    """What the hub reports; see :class:`NoopObserver` for the meaning of each call."""

    timed: bool
    """Whether the hub should stamp publishes and time their socket writes (costs a clock read)."""

    def connection_opened(self) -> None: ...

    def connection_closed(self) -> None: ...

    def frame_received(self, frame_type: type[ClientFrame] | None) -> None: ...

    def frame_sent(self, frame: ServerFrame) -> None: ...

    def frames_sent(self, type_name: str, count: int) -> None: ...

    def replied(self, request_type: type[ClientFrame], reply: ServerFrame, seconds: float) -> None: ...

    def slow_consumer_closed(self) -> None: ...

    def fanout_written(self, seconds: float) -> None: ...

    def broker_lost(self) -> None: ...

    def broker_up(self, *, reconnected: bool) -> None: ...


@runtime_checkable
class FrameScope(Protocol):
    """An optional capability of an observer: wrap the handling of every client frame but ``pong``.

    The hub enters ``handling(type_name, principal)`` around a frame's handler, in the socket's task,
    so whatever the handler does runs inside it (a tracer's span, say). An observer without this
    method costs the hub nothing per frame.
    """

    def handling(self, type_name: str, principal: Principal) -> AbstractContextManager[object]: ...


class NoopObserver:
    """Observes nothing: the default, so a hub without metrics pays one empty call per point."""

    timed = False

    def connection_opened(self) -> None:
        """A socket was accepted and registered on this node."""

    def connection_closed(self) -> None:
        """A registered socket is gone."""

    def frame_received(self, frame_type: type[ClientFrame] | None) -> None:
        """A client frame was decoded (``None``: it was refused as invalid or of an unknown type)."""

    def frame_sent(self, frame: ServerFrame) -> None:
        """One server frame was queued on one socket (``error`` frames carry their code)."""

    def frames_sent(self, type_name: str, count: int) -> None:
        """``count`` pre-encoded frames of ``type_name`` (``event``, ``ping``, ``hello``) were queued."""

    def replied(self, request_type: type[ClientFrame], reply: ServerFrame, seconds: float) -> None:
        """A registered handler answered a frame ``seconds`` after it was read (chat's send -> ack)."""

    def slow_consumer_closed(self) -> None:
        """A socket fell too far behind and was closed with 4008."""

    def fanout_written(self, seconds: float) -> None:
        """A sampled live event reached a socket ``seconds`` after it was published (wall clocks)."""

    def broker_lost(self) -> None:
        """The broker (Redis pub/sub) connection was lost."""

    def broker_up(self, *, reconnected: bool) -> None:
        """The broker is connected: at startup (``reconnected=False``) or after a loss."""


NOOP_OBSERVER = NoopObserver()
