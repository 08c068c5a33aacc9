"""The audit trail: every identity write leaves an event; reading it is filtered and fenced per tenant."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import select

from api.runtime import Runtime
from persistence.models import AuditEvent
from tests.api.identity.arrange import Headers
from tests.kit import TenantKit


async def events(runtime: Runtime, kit: TenantKit, action: str) -> list[AuditEvent]:
    async with runtime.db.transaction(tenant_id=kit.id) as session:
        return list((await session.scalars(select(AuditEvent).where(AuditEvent.action == action))).all())


async def test_creating_a_user_is_audited_without_the_password(
    client: AsyncTestClient[Litestar], tenant: TenantKit, admin: Headers, runtime: Runtime
) -> None:
    body = {"email": "new@example.com", "name": "New", "password": "a-long-new-passphrase"}
    created = await client.post("/api/v1/users", json=body, headers=admin)
    (event,) = await events(runtime, tenant, "user.create")
    assert (event.actor_user_id, event.target_type, event.target_id) == (
        tenant.users["admin"],
        "user",
        created.json()["id"],
    )
    assert event.details["fields"] == ["email", "locale", "name", "roles", "timezone"]
    assert event.details["password_set"] is True
    assert "argon2" not in str(event.details)
    assert "a-long-new-passphrase" not in str(event.details)


async def test_updating_a_user_records_the_changed_fields(
    client: AsyncTestClient[Litestar], tenant: TenantKit, admin: Headers, runtime: Runtime
) -> None:
    staff = tenant.users["staff"]
    await client.patch(f"/api/v1/users/{staff}", json={"name": "Renamed", "locale": "en"}, headers=admin)
    (event,) = await events(runtime, tenant, "user.update")
    assert event.details == {"fields": ["name"]}


async def test_setting_roles_records_what_was_added_and_removed(
    client: AsyncTestClient[Litestar], tenant: TenantKit, admin: Headers, runtime: Runtime
) -> None:
    await client.put(f"/api/v1/users/{tenant.users['staff']}/roles", json={"roles": ["moderator"]}, headers=admin)
    (event,) = await events(runtime, tenant, "user.roles.set")
    assert event.details == {"added": ["moderator"], "removed": ["staff"]}


async def test_department_role_and_tenant_writes_are_audited(
    client: AsyncTestClient[Litestar], tenant: TenantKit, admin: Headers, runtime: Runtime
) -> None:
    department = (await client.post("/api/v1/departments", json={"name": "D"}, headers=admin)).json()["id"]
    await client.patch(f"/api/v1/departments/{department}", json={"name": "E"}, headers=admin)
    await client.delete(f"/api/v1/departments/{department}", headers=admin)
    role = (await client.post("/api/v1/roles", json={"name": "r", "permissions": []}, headers=admin)).json()["id"]
    await client.patch(f"/api/v1/roles/{role}", json={"description": "x"}, headers=admin)
    await client.delete(f"/api/v1/roles/{role}", headers=admin)
    await client.patch("/api/v1/tenants/current", json={"name": "T"}, headers=admin)
    for action in (
        "department.create",
        "department.update",
        "department.delete",
        "role.create",
        "role.update",
        "role.delete",
        "tenant.update",
    ):
        assert len(await events(runtime, tenant, action)) == 1, action


async def test_a_refused_write_leaves_no_event(
    client: AsyncTestClient[Litestar], tenant: TenantKit, admin: Headers, runtime: Runtime
) -> None:
    await client.post("/api/v1/users", json={"email": tenant.email("staff"), "name": "Dup"}, headers=admin)
    assert await events(runtime, tenant, "user.create") == []


async def test_audit_lists_newest_first_and_filters_by_action(
    client: AsyncTestClient[Litestar], tenant: TenantKit, admin: Headers
) -> None:
    for name in ("first", "second"):
        await client.post("/api/v1/roles", json={"name": name, "permissions": []}, headers=admin)
    response = await client.get("/api/v1/audit", params={"action": "role.create"}, headers=admin)
    assert response.status_code == 200, response.text
    assert [e["details"]["name"] for e in response.json()["items"]] == ["second", "first"]
    assert response.json()["total"] == 2


async def test_audit_filters_by_actor_and_since(
    client: AsyncTestClient[Litestar], tenant: TenantKit, admin: Headers
) -> None:
    moderator = await tenant.headers(client, "moderator")
    since = datetime.now(UTC) - timedelta(minutes=1)
    by_moderator: dict[str, Any] = {"actor": str(tenant.users["moderator"]), "since": since.isoformat()}
    response = await client.get("/api/v1/audit", params=by_moderator, headers=moderator)
    assert response.status_code == 200, response.text
    assert {e["action"] for e in response.json()["items"]} == {"auth.login"}
    future = {"since": (datetime.now(UTC) + timedelta(hours=1)).isoformat()}
    assert (await client.get("/api/v1/audit", params=future, headers=admin)).json()["total"] == 0


async def test_audit_shows_only_the_callers_tenant(
    client: AsyncTestClient[Litestar], tenant: TenantKit, other_tenant: TenantKit, admin: Headers
) -> None:
    await other_tenant.headers(client, "admin")  # a sign-in event in the other tenant
    response = await client.get("/api/v1/audit", params={"limit": 200}, headers=admin)
    actors = {e.get("actor_user_id") for e in response.json()["items"]}
    assert str(other_tenant.users["admin"]) not in actors
    assert str(tenant.users["admin"]) in actors
