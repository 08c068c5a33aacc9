"""HTTP metrics: an ASGI middleware counting requests by route template, method and status, and timing them."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from litestar.enums import ScopeType

from api.metrics import families

if TYPE_CHECKING:
    from litestar.types import ASGIApp, Message, Receive, Scope, Send

# A request Litestar could not route never reaches route middleware; this label is for mounted apps
# that carry no template.
UNMATCHED_ROUTE = "unmatched"


class HttpMetricsMiddleware:
    """Count and time every HTTP request under its route's path template (``/api/v1/users/{user_id:uuid}``),
    never its raw path, so ids do not explode the label set.

    Runs as route middleware (after routing). An exception escaping the handler is counted with its
    ``status_code`` (Litestar's and fieldhub's errors carry one), else 500.
    """

    # Children are cached per label set: one dict lookup per request instead of prometheus_client's
    # label validation and locking.
    _children: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_observed(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_observed)
        except Exception as exc:
            status = getattr(exc, "status_code", 500)
            raise
        finally:
            route = scope.get("path_template") or UNMATCHED_ROUTE
            counter, timer = self._child(route, scope.get("method") or "GET", status)
            counter.inc()
            timer.observe(time.perf_counter() - started)

    @classmethod
    def _child(cls, route: str, method: str, status: int) -> tuple[Any, Any]:
        key = (route, method, status)
        child = cls._children.get(key)
        if child is None:
            child = cls._children[key] = (
                families.http_requests.labels(route=route, method=method, status=str(status)),
                families.http_request_duration.labels(route=route, method=method),
            )
        return child
