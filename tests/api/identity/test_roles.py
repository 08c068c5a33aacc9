"""Roles: custom roles, the permission catalogue, and what built-in roles and tenants:create protect."""

from __future__ import annotations

from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.api.identity.arrange import Grant, Headers, refusal
from tests.kit import TenantKit


async def role_id(client: AsyncTestClient[Litestar], headers: Headers, name: str) -> str:
    response = await client.get("/api/v1/roles", params={"q": name}, headers=headers)
    (match,) = [r for r in response.json()["items"] if r["name"] == name]
    found: str = match["id"]
    return found


async def test_list_roles_shows_the_builtin_roles(client: AsyncTestClient[Litestar], admin: Headers) -> None:
    response = await client.get("/api/v1/roles", headers=admin)
    assert response.status_code == 200
    assert {(r["name"], r["is_builtin"]) for r in response.json()["items"]} == {
        ("admin", True),
        ("moderator", True),
        ("safety", True),
        ("staff", True),
        ("supervisor", True),
    }


async def test_create_a_custom_role(client: AsyncTestClient[Litestar], admin: Headers) -> None:
    response = await client.post(
        "/api/v1/roles",
        json={"name": "auditor", "permissions": ["audit:read", "users:read", "audit:read"], "description": "Reads"},
        headers=admin,
    )
    assert response.status_code == 201, response.text
    assert response.json()["permissions"] == ["audit:read", "users:read"]
    assert response.json()["is_builtin"] is False


async def test_create_role_rejects_an_unknown_permission(client: AsyncTestClient[Litestar], admin: Headers) -> None:
    response = await client.post(
        "/api/v1/roles", json={"name": "odd", "permissions": ["users:read", "users:fly"]}, headers=admin
    )
    assert refusal(response) == (422, "unknown_permission")
    assert response.json()["error"]["details"] == {"unknown": ["users:fly"]}


async def test_tenants_create_cannot_be_granted_through_the_api(
    client: AsyncTestClient[Litestar], operator: Headers
) -> None:
    # Even an operator, who holds it, cannot hand it on.
    response = await client.post(
        "/api/v1/roles", json={"name": "ops", "permissions": ["tenants:create"]}, headers=operator
    )
    assert refusal(response) == (403, "forbidden")


async def test_a_role_cannot_hold_more_than_its_creator(client: AsyncTestClient[Litestar], grant: Grant) -> None:
    headers = await grant(["roles:write", "roles:read"])
    response = await client.post("/api/v1/roles", json={"name": "peek", "permissions": ["audit:read"]}, headers=headers)
    assert response.status_code == 403
    assert response.json()["error"]["details"] == {"permissions": ["audit:read"]}


async def test_role_names_are_unique_per_tenant(client: AsyncTestClient[Litestar], admin: Headers) -> None:
    response = await client.post("/api/v1/roles", json={"name": "staff", "permissions": []}, headers=admin)
    assert refusal(response) == (409, "conflict")


async def test_builtin_role_cannot_be_deleted(client: AsyncTestClient[Litestar], admin: Headers) -> None:
    staff = await role_id(client, admin, "staff")
    response = await client.delete(f"/api/v1/roles/{staff}", headers=admin)
    assert refusal(response) == (409, "builtin_role")
    assert (await client.get(f"/api/v1/roles/{staff}", headers=admin)).status_code == 200


async def test_builtin_role_cannot_be_renamed(client: AsyncTestClient[Litestar], admin: Headers) -> None:
    staff = await role_id(client, admin, "staff")
    response = await client.patch(f"/api/v1/roles/{staff}", json={"name": "crew"}, headers=admin)
    assert refusal(response) == (409, "builtin_role")


async def test_the_admin_roles_permissions_cannot_be_narrowed(
    client: AsyncTestClient[Litestar], admin: Headers
) -> None:
    admin_role = await role_id(client, admin, "admin")
    response = await client.patch(f"/api/v1/roles/{admin_role}", json={"permissions": ["tenant:read"]}, headers=admin)
    assert refusal(response) == (409, "builtin_role")
    assert "users:write" in (await client.get(f"/api/v1/roles/{admin_role}", headers=admin)).json()["permissions"]


async def test_builtin_role_permissions_can_change(
    client: AsyncTestClient[Litestar], tenant: TenantKit, admin: Headers
) -> None:
    staff_role = await role_id(client, admin, "staff")
    response = await client.patch(
        f"/api/v1/roles/{staff_role}",
        json={"permissions": ["tenant:read", "users:read", "departments:read", "roles:read"]},
        headers=admin,
    )
    assert response.status_code == 200, response.text
    staff = await tenant.headers(client, "staff")
    assert (await client.get("/api/v1/roles", headers=staff)).status_code == 200


async def test_custom_role_can_be_renamed(client: AsyncTestClient[Litestar], admin: Headers) -> None:
    created = await client.post("/api/v1/roles", json={"name": "temp", "permissions": []}, headers=admin)
    response = await client.patch(f"/api/v1/roles/{created.json()['id']}", json={"name": "lead"}, headers=admin)
    assert response.status_code == 200
    assert response.json()["name"] == "lead"


async def test_deleting_a_custom_role_takes_it_from_its_holders(
    client: AsyncTestClient[Litestar], tenant: TenantKit, admin: Headers
) -> None:
    created = await client.post("/api/v1/roles", json={"name": "reader", "permissions": ["roles:read"]}, headers=admin)
    staff = tenant.users["staff"]
    await client.put(f"/api/v1/users/{staff}/roles", json={"roles": ["staff", "reader"]}, headers=admin)
    response = await client.delete(f"/api/v1/roles/{created.json()['id']}", headers=admin)
    assert response.status_code == 204
    assert (await client.get(f"/api/v1/users/{staff}", headers=admin)).json()["roles"] == ["staff"]


async def test_update_role_rejects_an_unknown_permission(client: AsyncTestClient[Litestar], admin: Headers) -> None:
    staff = await role_id(client, admin, "staff")
    response = await client.patch(f"/api/v1/roles/{staff}", json={"permissions": ["chat:everything"]}, headers=admin)
    assert refusal(response) == (422, "unknown_permission")
