"""Health endpoints."""

from __future__ import annotations

from litestar import Litestar
from litestar.testing import AsyncTestClient


async def test_ready_reports_postgres_and_redis_ok(client: AsyncTestClient[Litestar]) -> None:
    response = await client.get("/health/ready")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"postgres": "ok", "redis": "ok"}}


async def test_live_answers_without_auth(client: AsyncTestClient[Litestar]) -> None:
    response = await client.get("/health/live")
    assert response.status_code == 200


async def test_every_response_carries_a_request_id(client: AsyncTestClient[Litestar]) -> None:
    response = await client.get("/health/live", headers={"X-Request-ID": "abc-123"})
    assert response.headers["x-request-id"] == "abc-123"
