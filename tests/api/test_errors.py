"""Every 4xx and 5xx has one JSON shape: {"error": {"code", "message", "details"}}."""

from __future__ import annotations

from litestar import Litestar
from litestar.testing import AsyncTestClient

from api.runtime import Runtime


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
