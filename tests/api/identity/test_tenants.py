"""The caller's tenant, and operators creating new tenants with a first admin."""

from __future__ import annotations

import secrets
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.api.identity.arrange import Headers, refusal
from tests.kit import TenantKit

ADMIN_PASSWORD = "first-admin-passphrase"


def new_tenant(slug: str | None = None) -> dict[str, Any]:
    slug = slug or f"n-{secrets.token_hex(5)}"
    return {
        "name": "New Co",
        "slug": slug,
        "admin": {"email": f"boss@{slug}.example", "name": "Boss", "password": ADMIN_PASSWORD},
    }


async def test_get_current_tenant(client: AsyncTestClient[Litestar], tenant: TenantKit) -> None:
    staff = await tenant.headers(client, "staff")
    response = await client.get("/api/v1/tenants/current", headers=staff)
    assert response.status_code == 200
    assert (response.json()["id"], response.json()["slug"]) == (str(tenant.id), tenant.slug)


async def test_update_current_tenant_name_and_settings(client: AsyncTestClient[Litestar], admin: Headers) -> None:
    response = await client.patch(
        "/api/v1/tenants/current", json={"name": "Renamed", "settings": {"week_starts": "monday"}}, headers=admin
    )
    assert response.status_code == 200, response.text
    again = await client.get("/api/v1/tenants/current", headers=admin)
    assert (again.json()["name"], again.json()["settings"]) == ("Renamed", {"week_starts": "monday"})


async def test_update_current_tenant_cannot_change_the_slug(client: AsyncTestClient[Litestar], admin: Headers) -> None:
    response = await client.patch("/api/v1/tenants/current", json={"slug": "mine"}, headers=admin)
    assert refusal(response) == (400, "invalid_request")


async def test_admin_cannot_create_tenants(client: AsyncTestClient[Litestar], admin: Headers) -> None:
    response = await client.post("/api/v1/tenants", json=new_tenant(), headers=admin)
    assert refusal(response) == (403, "forbidden")


async def test_operator_creates_a_tenant_whose_admin_can_sign_in(
    client: AsyncTestClient[Litestar], operator: Headers
) -> None:
    body = new_tenant()
    response = await client.post("/api/v1/tenants", json=body, headers=operator)
    assert response.status_code == 201, response.text
    assert response.json()["slug"] == body["slug"]
    login = await client.post(
        "/api/v1/auth/login",
        json={"email": body["admin"]["email"], "password": ADMIN_PASSWORD, "tenant": body["slug"]},
    )
    assert login.status_code == 200, login.text
    headers = {"Authorization": f"Bearer {login.json()['token']}"}
    current = await client.get("/api/v1/tenants/current", headers=headers)
    assert current.json()["id"] == response.json()["id"]
    me = await client.get("/api/v1/users/me", headers=headers)
    assert me.json()["roles"] == ["admin"]


async def test_creating_a_tenant_with_a_taken_slug_is_a_conflict(
    client: AsyncTestClient[Litestar], other_tenant: TenantKit, operator: Headers
) -> None:
    response = await client.post("/api/v1/tenants", json=new_tenant(other_tenant.slug), headers=operator)
    assert refusal(response) == (409, "conflict")


async def test_creating_a_tenant_checks_the_admin_password(
    client: AsyncTestClient[Litestar], operator: Headers
) -> None:
    body = new_tenant()
    body["admin"]["password"] = "short"
    response = await client.post("/api/v1/tenants", json=body, headers=operator)
    assert refusal(response) == (422, "weak_password")
