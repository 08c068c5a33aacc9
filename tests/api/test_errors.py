"""Every 4xx and 5xx has one JSON shape: {"error": {"code", "message", "details"}}."""

from __future__ import annotations

import httpx
import msgspec
from litestar import Litestar
from litestar.testing import AsyncTestClient

from api.app import create_app
from api.runtime import Runtime
from api.settings import Settings
from tests.serving import served


def _assert_error(body: dict[str, object], code: str) -> None:
    assert set(body) == {"error"}
    error = body["error"]
    assert isinstance(error, dict)
    assert set(error) == {"code", "message", "details"}
    assert error["code"] == code
    assert isinstance(error["message"], str)
    assert error["message"]


async def test_unknown_route_is_a_json_not_found(client: AsyncTestClient[Litestar]) -> None:
    response = await client.get("/api/v1/no-such-thing")
    assert response.status_code == 404
    _assert_error(response.json(), "not_found")


async def test_wrong_method_is_a_json_method_not_allowed(client: AsyncTestClient[Litestar]) -> None:
    response = await client.delete("/health/live")
    assert response.status_code == 405
    _assert_error(response.json(), "method_not_allowed")


async def test_an_oversized_body_is_refused_before_it_is_read(
    client: AsyncTestClient[Litestar], runtime: Runtime
) -> None:
    body = b'{"email": "' + b"a" * runtime.settings.max_request_body_bytes + b'"}'
    response = await client.post("/api/v1/auth/login", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 413
    _assert_error(response.json(), "too_large")


async def test_missing_authentication_is_a_json_unauthenticated(client: AsyncTestClient[Litestar]) -> None:
    response = await client.get("/api/v1/auth/me")
    assert response.status_code == 401
    _assert_error(response.json(), "unauthenticated")


async def test_openapi_document_lists_the_auth_endpoints(client: AsyncTestClient[Litestar]) -> None:
    response = await client.get("/schema/openapi.json")
    assert response.status_code == 200
    assert "/api/v1/auth/login" in response.json()["paths"]


async def test_a_request_finding_no_free_database_connection_is_told_to_retry(settings: Settings) -> None:
    crowded = create_app(msgspec.structs.replace(settings, database_pool_size=1, database_pool_timeout_seconds=0.2))
    login = {"email": "nobody@example.com", "password": "not-the-password"}
    # Served on this loop, so the test can hold the app's own pooled connections.
    async with served(crowded) as base_url, httpx.AsyncClient(base_url=base_url) as client:
        engine = crowded.state.runtime.db.engine
        async with engine.connect(), engine.connect():  # the pool's one connection and its one overflow
            response = await client.post("/api/v1/auth/login", json=login)
        assert (response.status_code, response.headers["retry-after"]) == (503, "1")
        _assert_error(response.json(), "unavailable")
        assert response.json()["error"]["details"] == {"retry_after": 1}
        after = await client.post("/api/v1/auth/login", json=login)
        assert after.status_code == 401
