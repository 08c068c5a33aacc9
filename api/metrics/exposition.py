"""``GET /metrics`` in Prometheus text format, and the multi-process set-up ``serve --workers N`` needs."""

from __future__ import annotations

import hmac
import os
import shutil
from typing import TYPE_CHECKING, Any

from litestar import Request, Response, get
from litestar.exceptions import NotAuthorizedException
from prometheus_client import REGISTRY, CollectorRegistry, generate_latest, multiprocess

if TYPE_CHECKING:
    from pathlib import Path

    from api.runtime import Runtime

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
# The classic text format every Prometheus reads (Litestar adds the charset); generate_latest writes it.
TEXT_FORMAT = "text/plain; version=0.0.4"


def prepare_multiprocess_dir(folder: Path) -> None:
    """Point ``prometheus_client`` at ``folder`` for the worker processes about to be forked, emptied first.

    Must run before the workers import ``prometheus_client``: it picks its value store at import.
    Files left by an earlier run would be summed into this one's counters, hence the wipe.
    """
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    os.environ[MULTIPROC_ENV] = str(folder)


def mark_process_gone() -> None:
    """Drop this process's live gauges (open sockets, pool in use) from the shared folder at exit."""
    if os.environ.get(MULTIPROC_ENV):
        multiprocess.mark_process_dead(os.getpid())  # type: ignore[no-untyped-call]


def render_metrics() -> bytes:
    """Every metric of this process, or of all ``serve`` workers when they share a folder."""
    if os.environ.get(MULTIPROC_ENV):
        # A fresh registry per scrape, as prometheus_client asks: it reads every worker's files.
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry)
    return generate_latest(REGISTRY)


@get("/metrics", exclude_from_auth=True, include_in_schema=False, sync_to_thread=False)
def metrics(request: Request[Any, Any, Any]) -> Response[bytes]:
    """The Prometheus scrape target; with ``FIELDHUB_METRICS_TOKEN`` set it wants ``Authorization: Bearer <token>``."""
    runtime: Runtime = request.app.state.runtime
    token = runtime.settings.metrics_token
    if token:
        presented = request.headers.get("authorization", "")
        if not hmac.compare_digest(presented.encode(), f"Bearer {token}".encode()):
            raise NotAuthorizedException("metrics need the metrics token")
    return Response(render_metrics(), media_type=TEXT_FORMAT)
