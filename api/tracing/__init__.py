"""Optional OpenTelemetry traces over OTLP/HTTP: whether they are on, and the process's tracing when they are.

With no OTLP endpoint configured (``FIELDHUB_OTLP_ENDPOINT``, else the standard
``OTEL_EXPORTER_OTLP_ENDPOINT``) nothing of OpenTelemetry is imported or set up.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from api.settings import Settings
    from api.tracing.otel import Tracing  # OpenTelemetry loads only when tracing is on

Role = Literal["serve", "worker"]


def otlp_traces_url(settings: Settings) -> str | None:
    """Where spans go: ``<endpoint>/v1/traces`` of the configured OTLP/HTTP endpoint; ``None``: no tracing.

    >>> from api.settings import Settings
    >>> otlp_traces_url(Settings(otlp_endpoint="http://collector:4318/"))
    'http://collector:4318/v1/traces'
    """
    endpoint = settings.otlp_endpoint or os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")
    return f"{endpoint.rstrip('/')}/v1/traces" if endpoint else None


def tracing_for(settings: Settings, role: Role) -> Tracing | None:
    """The process's tracing (``role``: ``serve`` or ``worker``) when an endpoint is configured, else ``None``."""
    traces_url = otlp_traces_url(settings)
    if traces_url is None:
        return None
    from api.tracing.otel import Tracing  # OpenTelemetry loads only when tracing is on

    return Tracing(traces_url=traces_url, role=role)
