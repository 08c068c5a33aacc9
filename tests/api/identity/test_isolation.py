"""Tenant isolation through the API: an admin of one tenant cannot see or touch another tenant's rows."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import select

from api.runtime import Runtime
from persistence.models import Department, Role, User
from tests.api.identity.arrange import Headers, add_department, add_role, refusal
from tests.kit import TenantKit

Model = type[User] | type[Department] | type[Role]

CASES: list[tuple[str, str, str, dict[str, Any] | None]] = [
    ("user", "GET", "/api/v1/users/{id}", None),
    ("user", "PATCH", "/api/v1/users/{id}", {"name": "Hijacked"}),
    ("user", "PUT", "/api/v1/users/{id}/roles", {"roles": []}),
    ("department", "GET", "/api/v1/departments/{id}", None),
    ("department", "PATCH", "/api/v1/departments/{id}", {"name": "Hijacked"}),
    ("department", "DELETE", "/api/v1/departments/{id}", None),
    ("role", "GET", "/api/v1/roles/{id}", None),
    ("role", "PATCH", "/api/v1/roles/{id}", {"name": "hijacked"}),
    ("role", "DELETE", "/api/v1/roles/{id}", None),
]


async def arrange(kind: str, kit: TenantKit) -> tuple[Model, UUID]:
    if kind == "user":
        return User, kit.users["staff"]
    if kind == "department":
        return Department, await add_department(kit, "Theirs")
    return Role, await add_role(kit, "theirs", ["users:read"])


async def snapshot(runtime: Runtime, kit: TenantKit, model: Model, item_id: UUID) -> dict[str, Any]:
    async with runtime.db.transaction(tenant_id=kit.id) as session:
        row: User | Department | Role | None = await session.scalar(select(model).where(model.id == item_id))
        assert row is not None
        roles = [r.name for r in row.roles] if isinstance(row, User) else None
        return {"name": row.name, "updated_at": row.updated_at, "roles": roles}


@pytest.mark.parametrize(("kind", "method", "path", "body"), CASES, ids=[f"{c[1]} {c[2]}" for c in CASES])
async def test_another_tenants_id_is_not_found_and_left_unchanged(
    client: AsyncTestClient[Litestar],
    runtime: Runtime,
    other_tenant: TenantKit,
    admin: Headers,
    kind: str,
    method: str,
    path: str,
    body: dict[str, Any] | None,
) -> None:
    model, item_id = await arrange(kind, other_tenant)
    before = await snapshot(runtime, other_tenant, model, item_id)
    response = await client.request(method, path.format(id=item_id), json=body, headers=admin)
    assert refusal(response) == (404, "not_found"), response.text
    assert await snapshot(runtime, other_tenant, model, item_id) == before


async def test_other_tenants_users_are_not_listed(
    client: AsyncTestClient[Litestar], other_tenant: TenantKit, admin: Headers
) -> None:
    response = await client.get("/api/v1/users", params={"q": other_tenant.slug}, headers=admin)
    assert response.json() == {"items": [], "total": 0, "limit": 50, "offset": 0}
