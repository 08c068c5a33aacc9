"""Observability fixtures: every log line captured, a worker running every delivery job kind against the
session's SMTP server, and an OTLP receiver (the app itself is served by ``tests.serving.served``)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from api.logs import JsonFormatter

# The test's own clients (HTTP, WebSocket, the SMTP server that receives the mail) log what they
# send and receive; only what fieldhub's process logs is under test.
HARNESS_LOGGERS = ("websockets.client", "httpx", "httpcore", "mail.log", "hpack")


class LogCapture(logging.Handler):
    """Every record, formatted by the app's own :class:`JsonFormatter`, as the operator would read it."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(JsonFormatter())
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if not record.name.startswith(HARNESS_LOGGERS):
            self.lines.append(self.format(record))

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


@pytest.fixture
def captured_logs() -> Iterator[LogCapture]:
    """Every logger at DEBUG (root, litestar, uvicorn, sqlalchemy, ours...) into one capture, restored after."""
    capture = LogCapture()
    root = logging.getLogger()
    named = [logger for logger in root.manager.loggerDict.values() if isinstance(logger, logging.Logger)]
    levels = {logger: logger.level for logger in [root, *named]}
    for logger in levels:
        logger.setLevel(logging.DEBUG)
        if logger is root or not logger.propagate:
            logger.addHandler(capture)
    try:
        yield capture
    finally:
        for logger, level in levels.items():
            logger.setLevel(level)
            logger.removeHandler(capture)


@dataclass(frozen=True)
class ReceivedSpan:
    """One span as an OTLP collector received it."""

    name: str
    trace_id: str
    span_id: str
    parent_span_id: str
    attributes: dict[str, object]
    resource: dict[str, object]


def _values(pairs: Iterable[Any]) -> dict[str, object]:
    """OTLP ``KeyValue``s as a dict (whichever of string, int, bool or double each holds)."""
    return {pair.key: getattr(pair.value, pair.value.WhichOneof("value")) for pair in pairs}


class OtlpReceiver(ThreadingHTTPServer):
    """A minimal OTLP/HTTP traces collector on a free port: decodes each ``ExportTraceServiceRequest``.

    It serves from its own thread: exporters post synchronously, from the event loop on shutdown.
    """

    def __init__(self) -> None:
        self.spans: list[ReceivedSpan] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                request = ExportTraceServiceRequest.FromString(body)
                for resource_spans in request.resource_spans:
                    resource = _values(resource_spans.resource.attributes)
                    for scope_spans in resource_spans.scope_spans:
                        receiver.spans.extend(
                            ReceivedSpan(
                                name=span.name,
                                trace_id=span.trace_id.hex(),
                                span_id=span.span_id.hex(),
                                parent_span_id=span.parent_span_id.hex(),
                                attributes=_values(span.attributes),
                                resource=resource,
                            )
                            for span in scope_spans.spans
                        )
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet: the test reads spans, not the receiver's access lines."""

        super().__init__(("127.0.0.1", 0), Handler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def named(self, name: str) -> list[ReceivedSpan]:
        return [span for span in self.spans if span.name == name]


@pytest.fixture
def otlp_receiver() -> Iterator[OtlpReceiver]:
    receiver = OtlpReceiver()
    thread = threading.Thread(target=receiver.serve_forever, name="otlp-receiver", daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        receiver.shutdown()
        receiver.server_close()
        thread.join(10)
