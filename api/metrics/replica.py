"""The read replica's metrics: its measured replay lag, whether it answers, and which database served each read."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from prometheus_client import Counter, Gauge

if TYPE_CHECKING:
    from persistence.replica import Served, Why

# Labelled by the replica, so a node without one exposes no sample and no replica alert fires.
replica_lag = Gauge(
    "fieldhub_db_replica_lag_seconds",
    "The read replica's replay lag at the last measurement (NaN while it cannot be asked).",
    ["replica"],
    multiprocess_mode="livemax",
)
replica_up = Gauge(
    "fieldhub_db_replica_up",
    "1 while the read replica answers the lag probe as a replica, 0 while reads fall back for that reason.",
    ["replica"],
    multiprocess_mode="livemin",
)
reads_served = Counter(
    "fieldhub_db_reads_total",
    "Routed read transactions (history, search, reports), by the database that served them and why.",
    ["served", "why"],
)


class PrometheusReplicaObserver:
    """Reports :class:`persistence.replica.Reads` into the families above.

    Args:
        replica: the label naming the replica (its host, port and database; never a password).
    """

    def __init__(self, *, replica: str) -> None:
        self._lag = replica_lag.labels(replica=replica)
        self._up = replica_up.labels(replica=replica)

    def lag_measured(self, seconds: float | None) -> None:
        self._up.set(0 if seconds is None else 1)
        self._lag.set(math.nan if seconds is None else seconds)

    def read_served(self, served: Served, why: Why) -> None:
        reads_served.labels(served=served, why=why).inc()
