"""The serving process's metric families (HTTP, WebSocket hub, chat, database pool), defined once per process.

Names follow Prometheus conventions: ``fieldhub_`` prefix, base units (seconds), ``_total`` on
counters. Gauges say how ``serve --workers N`` sums them across processes (``livesum``: processes
alive now; ``livemin``: the worst process).
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

# Most requests take milliseconds; the tail that matters for alerts is 0.25 s to 10 s.
LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

http_requests = Counter(
    "fieldhub_http_requests_total",
    "HTTP requests answered, by route template, method and status.",
    ["route", "method", "status"],
)
http_request_duration = Histogram(
    "fieldhub_http_request_duration_seconds",
    "Time from the request's arrival to the end of its response, by route template and method.",
    ["route", "method"],
    buckets=LATENCY_BUCKETS,
)

ws_connections_open = Gauge(
    "fieldhub_ws_connections_open", "WebSocket connections open on this node.", multiprocess_mode="livesum"
)
ws_frames_received = Counter(
    "fieldhub_ws_frames_received_total", "Client frames read, by frame type (invalid: refused).", ["type"]
)
ws_frames_sent = Counter("fieldhub_ws_frames_sent_total", "Server frames queued on sockets, by frame type.", ["type"])
ws_error_frames = Counter("fieldhub_ws_error_frames_total", "Error frames sent to clients, by error code.", ["code"])
ws_slow_consumers_closed = Counter(
    "fieldhub_ws_slow_consumers_closed_total", "Sockets closed with 4008 because they fell too far behind."
)
ws_fanout_latency = Histogram(
    "fieldhub_ws_fanout_latency_seconds",
    "Time from an event's publish to its write on a socket (one sampled socket per event and node).",
    buckets=LATENCY_BUCKETS,
)
redis_pubsub_up = Gauge(
    "fieldhub_redis_pubsub_up",
    "1 while the hub's Redis pub/sub connection is up (0 while it reconnects).",
    multiprocess_mode="livemin",
)
redis_pubsub_reconnects = Counter(
    "fieldhub_redis_pubsub_reconnects_total", "Times the hub's Redis pub/sub connection came back after a loss."
)

chat_messages_sent = Counter(
    "fieldhub_chat_messages_sent_total", "Chat messages acknowledged to their sender over WebSocket."
)
chat_send_ack = Histogram(
    "fieldhub_chat_send_ack_seconds",
    "Time from reading a chat send frame to queueing its ack (after the commit).",
    buckets=LATENCY_BUCKETS,
)

db_pool_in_use = Gauge(
    "fieldhub_db_pool_connections_in_use",
    "Database connections checked out of the pool.",
    ["pool"],
    multiprocess_mode="livesum",
)
db_pool_capacity = Gauge(
    "fieldhub_db_pool_connections_max",
    "Most connections the pool opens (pool size plus overflow).",
    ["pool"],
    multiprocess_mode="livesum",
)
db_pool_exhausted = Counter(
    "fieldhub_db_pool_exhausted_total",
    "Checkouts that took the pool's last connection: until one is returned, the next checkout waits.",
    ["pool"],
)
