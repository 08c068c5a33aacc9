"""Liveness (the process answers) and readiness (Postgres and Redis answer) for load balancers and orchestrators."""

from __future__ import annotations

import asyncio

from litestar import Controller, Response, get
from sqlalchemy import text

from api.deps import RuntimeDep
from api.schemas import ResponseBody

CHECK_TIMEOUT_S = 2.0


class Readiness(ResponseBody):
    status: str
    checks: dict[str, str]


class HealthController(Controller):
    path = "/health"
    tags = ["health"]

    @get("/live", operation_id="Live", exclude_from_auth=True)
    async def live(self) -> dict[str, str]:
        """200 while the process serves requests."""
        return {"status": "ok"}

    @get("/ready", operation_id="Ready", exclude_from_auth=True)
    async def ready(self, runtime: RuntimeDep) -> Response[Readiness]:
        """200 when Postgres and Redis both answer within 2 s, else 503 naming the one that did not."""

        async def postgres() -> None:
            async with runtime.db.engine.connect() as connection:
                await connection.execute(text("SELECT 1"))

        async def redis() -> None:
            await runtime.redis.ping()

        checks: dict[str, str] = {}
        for name, probe in (("postgres", postgres), ("redis", redis)):
            try:
                await asyncio.wait_for(probe(), CHECK_TIMEOUT_S)
                checks[name] = "ok"
            except Exception as exc:
                checks[name] = f"error: {type(exc).__name__}"
        healthy = all(v == "ok" for v in checks.values())
        return Response(
            Readiness(status="ok" if healthy else "unavailable", checks=checks),
            status_code=200 if healthy else 503,
        )
