"""Health endpoints."""

from __future__ import annotations

import logging

import pytest
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


async def test_the_access_log_records_a_refused_request_with_its_status(
    client: AsyncTestClient[Litestar], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="fieldhub.access"):
        response = await client.get("/api/v1/auth/me", headers={"X-Request-ID": "refused-1"})
    assert response.status_code == 401
    statuses = [r.__dict__.get("status") for r in caplog.records if r.name == "fieldhub.access"]
    assert statuses == [401]
