"""The Prometheus side of the hub's observer seam (:mod:`hub.observer`): sockets, frames, fan-out, Redis, chat acks."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from api.metrics import families
from hub.frames import Error

if TYPE_CHECKING:
    from hub.frames import ClientFrame, ServerFrame

INVALID_FRAME = "invalid"


def _tag(frame_type: type[Any]) -> str:
    return str(getattr(getattr(frame_type, "__struct_config__", None), "tag", None) or frame_type.__name__)


class PrometheusHubObserver:
    """Counts what the hub reports into :mod:`api.metrics.families`.

    Labelled children are looked up once per frame type or code and cached, so the per-frame cost
    is one dict lookup and one increment.
    """

    timed = True

    def __init__(self) -> None:
        self._received: dict[type[Any] | None, Any] = {}
        self._sent_by_type: dict[type[Any], Any] = {}
        self._sent_by_name: dict[str, Any] = {}
        self._errors: dict[str, Any] = {}
        self._fanout = families.ws_fanout_latency
        self._open = families.ws_connections_open

    def connection_opened(self) -> None:
        self._open.inc()

    def connection_closed(self) -> None:
        self._open.dec()

    def frame_received(self, frame_type: type[ClientFrame] | None) -> None:
        child = self._received.get(frame_type)
        if child is None:
            label = INVALID_FRAME if frame_type is None else _tag(frame_type)
            child = self._received[frame_type] = families.ws_frames_received.labels(type=label)
        child.inc()

    def frame_sent(self, frame: ServerFrame) -> None:
        frame_type = type(frame)
        child = self._sent_by_type.get(frame_type)
        if child is None:
            child = self._sent_by_type[frame_type] = families.ws_frames_sent.labels(type=_tag(frame_type))
        child.inc()
        if frame_type is Error:
            code: str = frame.code  # type: ignore[attr-defined]
            error = self._errors.get(code)
            if error is None:
                error = self._errors[code] = families.ws_error_frames.labels(code=code)
            error.inc()

    def frames_sent(self, type_name: str, count: int) -> None:
        if not count:
            return
        child = self._sent_by_name.get(type_name)
        if child is None:
            child = self._sent_by_name[type_name] = families.ws_frames_sent.labels(type=type_name)
        child.inc(count)

    def replied(self, request_type: type[ClientFrame], reply: ServerFrame, seconds: float) -> None:
        # The hub knows no chat; chat's send frame is answered by an ``ack`` once committed.
        if _tag(request_type) == "send" and _tag(type(reply)) == "ack":
            families.chat_messages_sent.inc()
            families.chat_send_ack.observe(seconds)

    def slow_consumer_closed(self) -> None:
        families.ws_slow_consumers_closed.inc()

    def fanout_written(self, seconds: float) -> None:
        self._fanout.observe(seconds)

    def broker_lost(self) -> None:
        families.redis_pubsub_up.set(0)

    def broker_up(self, *, reconnected: bool) -> None:
        families.redis_pubsub_up.set(1)
        if reconnected:
            families.redis_pubsub_reconnects.inc()
