"""Signing in and out with a password."""

from __future__ import annotations

from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.kit import PASSWORD, TenantKit


async def test_login_sets_an_httponly_session_cookie(client: AsyncTestClient[Litestar], tenant: TenantKit) -> None:
    response = await client.post(
        "/api/v1/auth/login", json={"email": tenant.email("staff"), "password": PASSWORD, "tenant": tenant.slug}
    )
    assert response.status_code == 200
    cookie = response.headers["set-cookie"]
    assert "fieldhub_session=" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie or "SameSite=Lax" in cookie
    me = await client.get("/api/v1/auth/me")
    assert me.json()["email"] == tenant.email("staff")
