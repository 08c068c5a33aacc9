"""The OpenTelemetry side of tracing: the tracer provider, and the spans of HTTP requests, hub frames and jobs.

A job continues the trace of the request or frame that enqueued it: the W3C ``traceparent`` rides
in the job (see :func:`persistence.jobs.set_trace_context_source`) and is the parent of the
worker's span. Imported only when an OTLP endpoint is configured (:func:`api.tracing.tracing_for`).
"""

from __future__ import annotations

import asyncio
import os
from contextlib import asynccontextmanager, nullcontext
from typing import TYPE_CHECKING, Any

from litestar.enums import ScopeType
from litestar.plugins.opentelemetry import OpenTelemetryConfig, OpenTelemetryPlugin
from opentelemetry.context import Context
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import Link, SpanKind, get_current_span
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from api.logs import mask_url_secrets
from api.metrics import PrometheusHubObserver
from persistence.jobs import set_trace_context_source

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Sequence
    from contextlib import AbstractContextManager

    from litestar import Litestar
    from opentelemetry.trace import Span, Tracer

    from api.tracing import Role
    from hub.hooks import Principal
    from persistence.jobs import ClaimedJob

_W3C = TraceContextTextMapPropagator()
_UNTRACED_FRAMES = frozenset({"ping"})
"""Heartbeats: one every few seconds per socket, nothing to learn from."""


def current_traceparent() -> str | None:
    """The W3C ``traceparent`` of the current span, ``None`` outside one.

    >>> current_traceparent() is None  # no span is current here
    True
    """
    if not get_current_span().get_span_context().is_valid:
        return None
    carrier: dict[str, str] = {}
    _W3C.inject(carrier)
    return carrier.get("traceparent")


def _parent(job: ClaimedJob) -> Context | None:
    return _W3C.extract({"traceparent": job.trace_context}) if job.trace_context else None


class Tracing:
    """One process's tracer provider, exporting in batches to ``traces_url``, and its hooks.

    Args:
        traces_url: the OTLP/HTTP traces URL (protobuf).
        role: ``serve`` or ``worker``, recorded on every span's resource.
    """

    def __init__(self, *, traces_url: str, role: Role) -> None:
        resource = Resource.create(
            {"service.name": os.environ.get("OTEL_SERVICE_NAME", "fieldhub"), "fieldhub.role": role}
        )
        self.provider = TracerProvider(resource=resource)
        self.provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=traces_url)))
        self.tracer: Tracer = self.provider.get_tracer("fieldhub")

    def start(self) -> None:
        """Stamp jobs enqueued from now on with the trace that enqueues them."""
        set_trace_context_source(current_traceparent)

    async def shutdown(self) -> None:
        """Stop stamping jobs, export what is buffered (a blocking post, so in a thread), and stop."""
        set_trace_context_source(None)
        await asyncio.to_thread(self.provider.shutdown)

    @asynccontextmanager
    async def lifespan(self, app: Litestar) -> AsyncIterator[None]:
        """The app's lifespan of tracing: :meth:`start`, then :meth:`shutdown` once the app has stopped."""
        self.start()
        try:
            yield
        finally:
            await self.shutdown()

    def http_plugin(self) -> OpenTelemetryPlugin:
        """Litestar's OpenTelemetry plugin: one server span per HTTP request (sockets get frame spans instead)."""
        return OpenTelemetryPlugin(
            OpenTelemetryConfig(
                tracer_provider=self.provider,
                scopes={ScopeType.HTTP},
                exclude=["^/health", "^/metrics$"],
                exclude_spans=["receive", "send"],
                server_request_hook_handler=_mask_query,
            )
        )

    def hub_observer(self) -> TracingHubObserver:
        """The app's hub observer (metrics) that also opens a span around each frame handled."""
        return TracingHubObserver(tracer=self.tracer)

    def job_scope(self, jobs: Sequence[ClaimedJob]) -> AbstractContextManager[object]:
        """The worker's :data:`delivery.worker.JobScope`: a span per group of jobs, child of the first
        job's enqueuing trace and linked to the others'."""
        first = jobs[0]
        links = [Link(get_current_span(parent).get_span_context()) for job in jobs[1:] if (parent := _parent(job))]
        return self.tracer.start_as_current_span(
            f"job {first.kind}",
            context=_parent(first) or Context(),  # no enqueuing trace: a root span, whatever is current
            kind=SpanKind.CONSUMER,
            links=links,
            attributes={
                "fieldhub.job.kind": first.kind,
                "fieldhub.job.count": len(jobs),
                "fieldhub.job.attempt": first.attempts,
                "fieldhub.tenant_id": str(first.tenant_id),
            },
        )


class TracingHubObserver(PrometheusHubObserver):
    """Hub metrics plus the hub's :class:`~hub.observer.FrameScope`: a span per client frame."""

    def __init__(self, *, tracer: Tracer) -> None:
        super().__init__()
        self._tracer = tracer

    def handling(self, type_name: str, principal: Principal) -> AbstractContextManager[object]:
        if type_name in _UNTRACED_FRAMES:
            return nullcontext()
        return self._tracer.start_as_current_span(
            f"ws {type_name}",
            kind=SpanKind.SERVER,
            attributes={
                "fieldhub.frame.type": type_name,
                "enduser.id": principal.user_id,
                "fieldhub.tenant_id": principal.namespace,
            },
        )


def _mask_query(span: Span, scope: dict[str, Any]) -> None:
    """Mask tokens in the request URL the ASGI instrumentation records (an unsubscribe or action link)."""
    attributes = getattr(span, "attributes", None)
    if not scope.get("query_string") or not attributes:
        return
    for key in ("http.url", "http.target", "url.query"):
        value = attributes.get(key)
        if isinstance(value, str):
            span.set_attribute(key, mask_url_secrets(value))
