"""Users: listing, reading, creating, changing, disabling and setting roles."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import select

from api.runtime import Runtime
from persistence.models import User
from tests.api.identity.arrange import Grant, Headers, add_department, refusal
from tests.kit import PASSWORD, TenantKit

NEW_PASSWORD = "a-long-new-passphrase"


def new_user(**overrides: Any) -> dict[str, Any]:
    return {"email": "Dana@Example.com", "name": "Dana", "roles": ["staff"], **overrides}


async def test_list_users_pages_the_tenants_users_by_name(
    client: AsyncTestClient[Litestar], tenant: TenantKit, admin: Headers
) -> None:
    response = await client.get("/api/v1/users", params={"limit": 2, "offset": 1}, headers=admin)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["total"] == 5
    assert (body["limit"], body["offset"]) == (2, 1)
    # Admin, Moderator, Safety, Staff, Supervisor: the second and third.
    assert [u["name"] for u in body["items"]] == ["Moderator", "Safety"]


async def test_list_users_filters_by_role(client: AsyncTestClient[Litestar], tenant: TenantKit, admin: Headers) -> None:
    response = await client.get("/api/v1/users", params={"role": "moderator"}, headers=admin)
    assert [u["id"] for u in response.json()["items"]] == [str(tenant.users["moderator"])]


async def test_list_users_searches_email_case_insensitively(
    client: AsyncTestClient[Litestar], tenant: TenantKit, admin: Headers
) -> None:
    response = await client.get("/api/v1/users", params={"q": "SUPERVISOR@"}, headers=admin)
    assert [u["email"] for u in response.json()["items"]] == [tenant.email("supervisor")]


async def test_list_users_filters_by_department_and_status(
    client: AsyncTestClient[Litestar], tenant: TenantKit, admin: Headers
) -> None:
    department = await add_department(tenant, "Field")
    staff = tenant.users["staff"]
    await client.patch(f"/api/v1/users/{staff}", json={"department_id": str(department)}, headers=admin)
    await client.patch(f"/api/v1/users/{staff}", json={"status": "disabled"}, headers=admin)
    in_department = await client.get("/api/v1/users", params={"department_id": str(department)}, headers=admin)
    disabled = await client.get("/api/v1/users", params={"status": "disabled"}, headers=admin)
    assert [u["id"] for u in in_department.json()["items"]] == [str(staff)]
    assert [u["id"] for u in disabled.json()["items"]] == [str(staff)]


async def test_user_response_has_no_password_hash_or_lockout_state(
    client: AsyncTestClient[Litestar], tenant: TenantKit, admin: Headers
) -> None:
    response = await client.get(f"/api/v1/users/{tenant.users['staff']}", headers=admin)
    assert response.status_code == 200
    body = response.json()
    assert body["email"] == tenant.email("staff")
    assert body["roles"] == ["staff"]
    assert not {"password_hash", "failed_logins", "locked_until", "tenant_id"} & body.keys()


async def test_create_user_with_initial_password_can_sign_in(
    client: AsyncTestClient[Litestar], tenant: TenantKit, admin: Headers
) -> None:
    body = new_user(password=NEW_PASSWORD, timezone="Europe/Paris", locale="fr-FR", phone="+33 1 23 45 67 89")
    response = await client.post("/api/v1/users", json=body, headers=admin)
    assert response.status_code == 201, response.text
    created = response.json()
    assert (created["email"], created["timezone"], created["locale"]) == ("dana@example.com", "Europe/Paris", "fr-FR")
    assert "password_hash" not in created
    login = await client.post(
        "/api/v1/auth/login", json={"email": "dana@example.com", "password": NEW_PASSWORD, "tenant": tenant.slug}
    )
    assert login.status_code == 200, login.text


async def test_create_user_rejects_unknown_fields(client: AsyncTestClient[Litestar], admin: Headers) -> None:
    response = await client.post("/api/v1/users", json=new_user(is_superuser=True), headers=admin)
    assert refusal(response) == (400, "invalid_request")


async def test_create_user_rejects_an_unknown_time_zone(client: AsyncTestClient[Litestar], admin: Headers) -> None:
    response = await client.post("/api/v1/users", json=new_user(timezone="Mars/Olympus"), headers=admin)
    assert refusal(response) == (422, "invalid_timezone")


async def test_create_user_rejects_a_weak_password(client: AsyncTestClient[Litestar], admin: Headers) -> None:
    response = await client.post("/api/v1/users", json=new_user(password="aaaaaaaaaaaa"), headers=admin)
    assert refusal(response) == (422, "weak_password")


async def test_create_user_with_a_taken_email_is_a_conflict(
    client: AsyncTestClient[Litestar], tenant: TenantKit, admin: Headers
) -> None:
    response = await client.post("/api/v1/users", json=new_user(email=tenant.email("staff").upper()), headers=admin)
    assert refusal(response) == (409, "conflict")


async def test_same_email_may_exist_in_two_tenants(
    client: AsyncTestClient[Litestar], other_tenant: TenantKit, admin: Headers
) -> None:
    response = await client.post("/api/v1/users", json=new_user(email=other_tenant.email("staff")), headers=admin)
    assert response.status_code == 201, response.text


async def test_create_user_rejects_an_unknown_role(client: AsyncTestClient[Litestar], admin: Headers) -> None:
    response = await client.post("/api/v1/users", json=new_user(roles=["wizard"]), headers=admin)
    assert response.status_code == 422
    assert response.json()["error"] == {
        "code": "unknown_role",
        "message": "Some roles do not exist.",
        "details": {"unknown": ["wizard"]},
    }


async def test_create_user_rejects_a_department_of_another_tenant(
    client: AsyncTestClient[Litestar], other_tenant: TenantKit, admin: Headers
) -> None:
    foreign = await add_department(other_tenant, "Theirs")
    response = await client.post("/api/v1/users", json=new_user(department_id=str(foreign)), headers=admin)
    assert refusal(response) == (400, "invalid_reference")


async def test_create_user_cannot_grant_a_role_above_the_caller(
    client: AsyncTestClient[Litestar], grant: Grant
) -> None:
    headers = await grant(["users:write"])
    response = await client.post("/api/v1/users", json=new_user(roles=["admin"]), headers=headers)
    assert refusal(response) == (403, "forbidden")


async def test_update_user_changes_profile_fields(
    client: AsyncTestClient[Litestar], tenant: TenantKit, admin: Headers
) -> None:
    staff = tenant.users["staff"]
    response = await client.patch(
        f"/api/v1/users/{staff}", json={"name": "Sam", "timezone": "Asia/Tokyo", "phone": None}, headers=admin
    )
    assert response.status_code == 200, response.text
    assert (response.json()["name"], response.json()["timezone"]) == ("Sam", "Asia/Tokyo")


async def test_update_user_rejects_an_unknown_time_zone(
    client: AsyncTestClient[Litestar], tenant: TenantKit, admin: Headers
) -> None:
    response = await client.patch(f"/api/v1/users/{tenant.users['staff']}", json={"timezone": "UTC+5"}, headers=admin)
    assert refusal(response) == (422, "invalid_timezone")


async def test_update_user_to_a_taken_email_is_a_conflict(
    client: AsyncTestClient[Litestar], tenant: TenantKit, admin: Headers
) -> None:
    response = await client.patch(
        f"/api/v1/users/{tenant.users['staff']}", json={"email": tenant.email("moderator")}, headers=admin
    )
    assert refusal(response) == (409, "conflict")


async def test_disabling_a_user_revokes_their_sessions(
    client: AsyncTestClient[Litestar], tenant: TenantKit, admin: Headers
) -> None:
    staff = await tenant.headers(client, "staff")
    assert (await client.get("/api/v1/auth/me", headers=staff)).status_code == 200
    response = await client.patch(f"/api/v1/users/{tenant.users['staff']}", json={"status": "disabled"}, headers=admin)
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "disabled"
    assert (await client.get("/api/v1/auth/me", headers=staff)).status_code == 401


async def test_disabling_a_user_announces_the_revoked_sessions(
    client: AsyncTestClient[Litestar], app: Litestar, tenant: TenantKit, admin: Headers
) -> None:
    announced: list[UUID] = []

    async def listen(session_ids: list[UUID]) -> None:
        announced.extend(session_ids)

    await tenant.headers(client, "staff")
    listeners = app.state.runtime.session_listeners
    listeners.append(listen)
    try:
        await client.patch(f"/api/v1/users/{tenant.users['staff']}", json={"status": "disabled"}, headers=admin)
    finally:
        listeners.remove(listen)
    assert len(announced) == 1


async def test_admin_cannot_disable_themselves(
    client: AsyncTestClient[Litestar], tenant: TenantKit, admin: Headers
) -> None:
    response = await client.patch(f"/api/v1/users/{tenant.users['admin']}", json={"status": "disabled"}, headers=admin)
    assert refusal(response) == (409, "cannot_disable_self")


async def test_set_roles_replaces_roles_and_takes_effect_at_once(
    client: AsyncTestClient[Litestar], tenant: TenantKit, admin: Headers
) -> None:
    staff = await tenant.headers(client, "staff")
    assert (await client.get("/api/v1/roles", headers=staff)).status_code == 403
    response = await client.put(
        f"/api/v1/users/{tenant.users['staff']}/roles", json={"roles": ["supervisor"]}, headers=admin
    )
    assert response.status_code == 200, response.text
    assert response.json()["roles"] == ["supervisor"]
    assert (await client.get("/api/v1/roles", headers=staff)).status_code == 200


async def test_set_roles_cannot_grant_tenants_create(
    client: AsyncTestClient[Litestar], tenant: TenantKit, admin: Headers, operator: Headers
) -> None:
    response = await client.put(
        f"/api/v1/users/{tenant.users['staff']}/roles", json={"roles": ["operator"]}, headers=admin
    )
    assert refusal(response) == (403, "forbidden")


async def test_set_roles_rejects_an_unknown_role(
    client: AsyncTestClient[Litestar], tenant: TenantKit, admin: Headers
) -> None:
    response = await client.put(
        f"/api/v1/users/{tenant.users['staff']}/roles", json={"roles": ["ghost"]}, headers=admin
    )
    assert refusal(response) == (422, "unknown_role")


async def test_anyone_reads_their_own_profile_without_any_permission(
    client: AsyncTestClient[Litestar], grant: Grant
) -> None:
    headers = await grant([])
    response = await client.get("/api/v1/users/me", headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["roles"] != []


async def test_staff_edits_their_own_profile(
    client: AsyncTestClient[Litestar], tenant: TenantKit, runtime: Runtime
) -> None:
    staff = await tenant.headers(client, "staff")
    response = await client.patch(
        "/api/v1/users/me",
        json={"name": "Stef", "locale": "de", "avatar_url": "https://cdn.example/a.png"},
        headers=staff,
    )
    assert response.status_code == 200, response.text
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        row = await session.scalar(select(User).where(User.id == tenant.users["staff"]))
    assert row is not None
    assert (row.name, row.locale, row.avatar_url) == ("Stef", "de", "https://cdn.example/a.png")


async def test_own_profile_cannot_change_status_or_email(client: AsyncTestClient[Litestar], tenant: TenantKit) -> None:
    staff = await tenant.headers(client, "staff")
    for field, value in (("status", "active"), ("email", "me@else.example")):
        response = await client.patch("/api/v1/users/me", json={field: value}, headers=staff)
        assert refusal(response) == (400, "invalid_request"), field


async def test_initial_password_is_optional(
    client: AsyncTestClient[Litestar], tenant: TenantKit, admin: Headers
) -> None:
    response = await client.post("/api/v1/users", json=new_user(), headers=admin)
    assert response.status_code == 201
    login = await client.post(
        "/api/v1/auth/login", json={"email": "dana@example.com", "password": PASSWORD, "tenant": tenant.slug}
    )
    assert login.status_code == 401


async def test_the_last_admin_cannot_give_up_the_admin_role(
    client: AsyncTestClient[Litestar], tenant: TenantKit, admin: Headers
) -> None:
    response = await client.put(
        f"/api/v1/users/{tenant.users['admin']}/roles", json={"roles": ["staff"]}, headers=admin
    )
    assert refusal(response) == (409, "last_admin")
    assert "admin" in (await client.get(f"/api/v1/users/{tenant.users['admin']}", headers=admin)).json()["roles"]


async def test_an_admin_steps_down_once_another_admin_exists(
    client: AsyncTestClient[Litestar], tenant: TenantKit, admin: Headers
) -> None:
    await tenant.add_user("deputy", roles=["admin"])
    response = await client.put(
        f"/api/v1/users/{tenant.users['admin']}/roles", json={"roles": ["staff"]}, headers=admin
    )
    assert response.status_code == 200, response.text
    assert response.json()["roles"] == ["staff"]
