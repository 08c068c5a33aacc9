"""Prometheus metrics of the serving processes: ``GET /metrics``, HTTP middleware, the hub observer, pool gauges.

Delivery's job metrics live in :mod:`delivery.metrics` (the worker exposes them on ``--metrics-port``),
the backup gauges in :mod:`api.metrics.backups` (the worker's too).
"""

from __future__ import annotations

from api.metrics.backups import observe_backups
from api.metrics.exposition import mark_process_gone, metrics, prepare_multiprocess_dir, render_metrics
from api.metrics.http import HttpMetricsMiddleware
from api.metrics.hub import PrometheusHubObserver
from api.metrics.pool import instrument_pool

__all__ = [
    "HttpMetricsMiddleware",
    "PrometheusHubObserver",
    "instrument_pool",
    "mark_process_gone",
    "metrics",
    "observe_backups",
    "prepare_multiprocess_dir",
    "render_metrics",
]
