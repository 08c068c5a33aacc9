"""Departments: the tree, moves that would close a cycle, and deleting only what is empty."""

from __future__ import annotations

from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.api.identity.arrange import Headers, add_department, refusal
from tests.kit import TenantKit


async def create(client: AsyncTestClient[Litestar], headers: Headers, name: str, parent: str | None = None) -> str:
    response = await client.post("/api/v1/departments", json={"name": name, "parent_id": parent}, headers=headers)
    assert response.status_code == 201, response.text
    department_id: str = response.json()["id"]
    return department_id


async def test_create_and_get_a_department(
    client: AsyncTestClient[Litestar], tenant: TenantKit, admin: Headers
) -> None:
    response = await client.post(
        "/api/v1/departments", json={"name": "Sales", "head_user_id": str(tenant.users["supervisor"])}, headers=admin
    )
    assert response.status_code == 201, response.text
    got = await client.get(f"/api/v1/departments/{response.json()['id']}", headers=admin)
    assert got.json()["name"] == "Sales"
    assert got.json()["head_user_id"] == str(tenant.users["supervisor"])


async def test_tree_nests_departments_under_their_parents(client: AsyncTestClient[Litestar], admin: Headers) -> None:
    north = await create(client, admin, "North")
    await create(client, admin, "Lille", north)
    await create(client, admin, "Amiens", north)
    await create(client, admin, "South")
    response = await client.get("/api/v1/departments/tree", headers=admin)
    assert response.status_code == 200, response.text
    assert [(n["name"], [c["name"] for c in n["children"]]) for n in response.json()] == [
        ("North", ["Amiens", "Lille"]),
        ("South", []),
    ]


async def test_list_departments_filters_by_parent(client: AsyncTestClient[Litestar], admin: Headers) -> None:
    north = await create(client, admin, "North")
    await create(client, admin, "Lille", north)
    await create(client, admin, "South")
    response = await client.get("/api/v1/departments", params={"parent_id": north}, headers=admin)
    assert [d["name"] for d in response.json()["items"]] == ["Lille"]
    assert response.json()["total"] == 1


async def test_moving_a_department_under_its_descendant_is_a_cycle(
    client: AsyncTestClient[Litestar], admin: Headers
) -> None:
    top = await create(client, admin, "Top")
    middle = await create(client, admin, "Middle", top)
    bottom = await create(client, admin, "Bottom", middle)
    response = await client.patch(f"/api/v1/departments/{top}", json={"parent_id": bottom}, headers=admin)
    assert refusal(response) == (422, "department_cycle")


async def test_a_department_cannot_be_its_own_parent(client: AsyncTestClient[Litestar], admin: Headers) -> None:
    solo = await create(client, admin, "Solo")
    response = await client.patch(f"/api/v1/departments/{solo}", json={"parent_id": solo}, headers=admin)
    assert refusal(response) == (422, "department_cycle")


async def test_moving_a_department_elsewhere_in_the_tree(client: AsyncTestClient[Litestar], admin: Headers) -> None:
    a = await create(client, admin, "A")
    b = await create(client, admin, "B")
    child = await create(client, admin, "Child", a)
    moved = await client.patch(f"/api/v1/departments/{child}", json={"parent_id": b}, headers=admin)
    assert moved.status_code == 200, moved.text
    top = await client.patch(f"/api/v1/departments/{child}", json={"parent_id": None}, headers=admin)
    assert top.json().get("parent_id") is None


async def test_department_names_are_unique_per_tenant(client: AsyncTestClient[Litestar], admin: Headers) -> None:
    await create(client, admin, "Ops")
    response = await client.post("/api/v1/departments", json={"name": "Ops"}, headers=admin)
    assert refusal(response) == (409, "conflict")


async def test_deleting_a_department_with_children_is_refused(
    client: AsyncTestClient[Litestar], admin: Headers
) -> None:
    parent = await create(client, admin, "Parent")
    await create(client, admin, "Kid", parent)
    response = await client.delete(f"/api/v1/departments/{parent}", headers=admin)
    assert refusal(response) == (409, "department_in_use")
    assert response.json()["error"]["details"] == {"children": 1, "users": 0}


async def test_deleting_a_department_with_members_is_refused(
    client: AsyncTestClient[Litestar], tenant: TenantKit, admin: Headers
) -> None:
    department = await create(client, admin, "Crew")
    await client.patch(f"/api/v1/users/{tenant.users['staff']}", json={"department_id": department}, headers=admin)
    response = await client.delete(f"/api/v1/departments/{department}", headers=admin)
    assert refusal(response) == (409, "department_in_use")


async def test_deleting_an_empty_department(client: AsyncTestClient[Litestar], admin: Headers) -> None:
    department = await create(client, admin, "Gone")
    assert (await client.delete(f"/api/v1/departments/{department}", headers=admin)).status_code == 204
    assert (await client.get(f"/api/v1/departments/{department}", headers=admin)).status_code == 404


async def test_parent_of_another_tenant_is_an_invalid_reference(
    client: AsyncTestClient[Litestar], other_tenant: TenantKit, admin: Headers
) -> None:
    foreign = await add_department(other_tenant, "Theirs")
    response = await client.post("/api/v1/departments", json={"name": "Mine", "parent_id": str(foreign)}, headers=admin)
    assert refusal(response) == (400, "invalid_reference")


async def test_create_department_rejects_unknown_fields(client: AsyncTestClient[Litestar], admin: Headers) -> None:
    response = await client.post("/api/v1/departments", json={"name": "X", "tenant_id": "x"}, headers=admin)
    assert refusal(response) == (400, "invalid_request")
