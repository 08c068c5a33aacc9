"""Workplaces: validation, unique codes, search by text and distance, assignments with history, the channel."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import select

from api.runtime import Runtime
from persistence.models import AuditEvent, Conversation, ConversationMember, Workplace
from tests.api.fieldops.fieldkit import PARIS, Client, assign, make_workplace, north_of
from tests.api.identity.arrange import refusal
from tests.kit import TenantKit


async def channel_members(runtime: Runtime, tenant: TenantKit, workplace_id: str) -> set[UUID]:
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        conversation = await session.scalar(select(Conversation).where(Conversation.workplace_id == UUID(workplace_id)))
        assert conversation is not None
        rows = await session.scalars(
            select(ConversationMember.user_id).where(ConversationMember.conversation_id == conversation.id)
        )
        return set(rows.all())


async def workplace_count(runtime: Runtime, tenant: TenantKit) -> int:
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        return len((await session.scalars(select(Workplace.id))).all())


async def test_create_and_read_a_workplace(client: Client, tenant: TenantKit) -> None:
    admin = await tenant.headers(client)
    hours = {"mon": [["14:00", "19:00"], ["08:00", "12:00"]]}
    created = await make_workplace(client, admin, name="Louvre", code="PAR-1", opening_hours=hours, region="IDF")
    got = await client.get(f"/api/v1/workplaces/{created['id']}", headers=admin)
    assert got.status_code == 200, got.text
    body = got.json()
    assert (body["name"], body["code"], body["timezone"], body["region"]) == ("Louvre", "PAR-1", "Europe/Paris", "IDF")
    assert body["opening_hours"] == {"mon": [["08:00", "12:00"], ["14:00", "19:00"]]}


async def test_creating_a_workplace_is_audited(client: Client, tenant: TenantKit, runtime: Runtime) -> None:
    created = await make_workplace(client, await tenant.headers(client))
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        actions = (await session.scalars(select(AuditEvent.action).where(AuditEvent.target_id == created["id"]))).all()
    assert list(actions) == ["workplace.create"]


async def test_an_unknown_timezone_is_refused(client: Client, tenant: TenantKit, runtime: Runtime) -> None:
    admin = await tenant.headers(client)
    body = {"name": "X", "code": "X1", "latitude": 1, "longitude": 1, "timezone": "Mars/Olympus"}
    response = await client.post("/api/v1/workplaces", json=body, headers=admin)
    assert refusal(response) == (422, "invalid_timezone")
    assert await workplace_count(runtime, tenant) == 0


async def test_a_latitude_beyond_the_pole_is_refused(client: Client, tenant: TenantKit) -> None:
    admin = await tenant.headers(client)
    body = {"name": "X", "code": "X1", "latitude": 91, "longitude": 1, "timezone": "UTC"}
    response = await client.post("/api/v1/workplaces", json=body, headers=admin)
    assert refusal(response) == (400, "invalid_request")


async def test_opening_hours_that_end_before_they_start_are_refused(client: Client, tenant: TenantKit) -> None:
    admin = await tenant.headers(client)
    body = {
        "name": "X",
        "code": "X1",
        "latitude": 1,
        "longitude": 1,
        "timezone": "UTC",
        "opening_hours": {"tue": [["18:00", "09:00"]]},
    }
    response = await client.post("/api/v1/workplaces", json=body, headers=admin)
    assert refusal(response) == (422, "invalid_opening_hours")


async def test_codes_are_unique_per_tenant(client: Client, tenant: TenantKit, other_tenant: TenantKit) -> None:
    admin = await tenant.headers(client)
    await make_workplace(client, admin, code="DUP")
    await make_workplace(client, await other_tenant.headers(client), code="DUP")
    body = {"name": "Again", "code": "DUP", "latitude": 1, "longitude": 1, "timezone": "UTC"}
    response = await client.post("/api/v1/workplaces", json=body, headers=admin)
    assert refusal(response) == (409, "conflict")


async def test_search_matches_name_or_code(client: Client, tenant: TenantKit) -> None:
    admin = await tenant.headers(client)
    await make_workplace(client, admin, name="Rivoli Market", code="A1")
    await make_workplace(client, admin, name="Other", code="RIV-2")
    await make_workplace(client, admin, name="Elsewhere", code="B3")
    response = await client.get("/api/v1/workplaces", params={"q": "riv"}, headers=admin)
    assert sorted(w["name"] for w in response.json()["items"]) == ["Other", "Rivoli Market"]


async def test_search_by_distance_lists_the_nearest_first(client: Client, tenant: TenantKit) -> None:
    admin = await tenant.headers(client)
    far = north_of(PARIS, 3_000)
    near = north_of(PARIS, 500)
    await make_workplace(client, admin, name="Far", latitude=far[0], longitude=far[1])
    await make_workplace(client, admin, name="Near", latitude=near[0], longitude=near[1])
    await make_workplace(client, admin, name="Lyon", latitude=45.76, longitude=4.84)
    params: dict[str, Any] = {"near_lat": PARIS[0], "near_lon": PARIS[1], "within_m": 5_000}
    response = await client.get("/api/v1/workplaces", params=params, headers=admin)
    assert response.status_code == 200, response.text
    items = response.json()["items"]
    assert [w["name"] for w in items] == ["Near", "Far"]
    assert abs(items[0]["distance_m"] - 500) < 2


async def test_a_point_needs_both_coordinates(client: Client, tenant: TenantKit) -> None:
    response = await client.get("/api/v1/workplaces", params={"near_lat": 1}, headers=await tenant.headers(client))
    assert refusal(response) == (422, "invalid_point")


async def test_another_tenants_workplace_is_not_found(
    client: Client, tenant: TenantKit, other_tenant: TenantKit
) -> None:
    theirs = await make_workplace(client, await other_tenant.headers(client))
    admin = await tenant.headers(client)
    assert refusal(await client.get(f"/api/v1/workplaces/{theirs['id']}", headers=admin)) == (404, "not_found")
    patched = await client.patch(f"/api/v1/workplaces/{theirs['id']}", json={"name": "Mine"}, headers=admin)
    assert refusal(patched) == (404, "not_found")


async def test_another_tenants_department_is_not_found(
    client: Client, tenant: TenantKit, other_tenant: TenantKit, runtime: Runtime
) -> None:
    other_admin = await other_tenant.headers(client)
    department = await client.post("/api/v1/departments", json={"name": "Theirs"}, headers=other_admin)
    admin = await tenant.headers(client)
    body = {"name": "X", "code": "X1", "latitude": 1, "longitude": 1, "timezone": "UTC"}
    response = await client.post(
        "/api/v1/workplaces", json=body | {"department_id": department.json()["id"]}, headers=admin
    )
    assert refusal(response) == (404, "not_found")
    assert await workplace_count(runtime, tenant) == 0


async def test_update_changes_the_geofence(client: Client, tenant: TenantKit) -> None:
    admin = await tenant.headers(client)
    created = await make_workplace(client, admin)
    response = await client.patch(
        f"/api/v1/workplaces/{created['id']}", json={"geofence_radius_m": 250, "region": None}, headers=admin
    )
    assert response.status_code == 200, response.text
    assert response.json()["geofence_radius_m"] == 250


async def test_staff_cannot_create_workplaces(client: Client, tenant: TenantKit) -> None:
    staff = await tenant.headers(client, "staff")
    body = {"name": "X", "code": "X1", "latitude": 1, "longitude": 1, "timezone": "UTC"}
    assert refusal(await client.post("/api/v1/workplaces", json=body, headers=staff)) == (403, "forbidden")


async def test_the_channel_follows_assignments(client: Client, tenant: TenantKit, runtime: Runtime) -> None:
    admin = await tenant.headers(client)
    created = await make_workplace(client, admin)
    staff_assignment = await assign(client, admin, created["id"], tenant.users["staff"])
    await assign(client, admin, created["id"], tenant.users["supervisor"], "supervisor")
    assert await channel_members(runtime, tenant, created["id"]) == {
        tenant.users["staff"],
        tenant.users["supervisor"],
    }
    ended = await client.delete(f"/api/v1/workplaces/{created['id']}/assignments/{staff_assignment}", headers=admin)
    assert ended.status_code == 200, ended.text
    assert await channel_members(runtime, tenant, created["id"]) == {tenant.users["supervisor"]}


async def test_ended_assignments_stay_in_the_history(client: Client, tenant: TenantKit) -> None:
    admin = await tenant.headers(client)
    created = await make_workplace(client, admin)
    first = await assign(client, admin, created["id"], tenant.users["staff"])
    await client.delete(f"/api/v1/workplaces/{created['id']}/assignments/{first}", headers=admin)
    second = await assign(client, admin, created["id"], tenant.users["staff"])
    url = f"/api/v1/workplaces/{created['id']}/assignments"
    current = await client.get(url, headers=admin)
    history = await client.get(url, params={"include_ended": True}, headers=admin)
    assert [a["id"] for a in current.json()] == [second]
    assert [a["id"] for a in history.json()] == [first, second]
    assert history.json()[0]["ended_at"] is not None


async def test_assigning_twice_is_refused(client: Client, tenant: TenantKit) -> None:
    admin = await tenant.headers(client)
    created = await make_workplace(client, admin)
    await assign(client, admin, created["id"], tenant.users["staff"])
    again = await client.post(
        f"/api/v1/workplaces/{created['id']}/assignments", json={"user_id": str(tenant.users["staff"])}, headers=admin
    )
    assert refusal(again) == (409, "already_assigned")


async def test_assigning_another_tenants_user_is_not_found(
    client: Client, tenant: TenantKit, other_tenant: TenantKit, runtime: Runtime
) -> None:
    admin = await tenant.headers(client)
    created = await make_workplace(client, admin)
    response = await client.post(
        f"/api/v1/workplaces/{created['id']}/assignments",
        json={"user_id": str(other_tenant.users["staff"])},
        headers=admin,
    )
    assert refusal(response) == (404, "not_found")
    assert await channel_members(runtime, tenant, created["id"]) == set()


async def test_an_unused_workplace_can_be_deleted(client: Client, tenant: TenantKit, runtime: Runtime) -> None:
    admin = await tenant.headers(client)
    created = await make_workplace(client, admin)
    await assign(client, admin, created["id"], tenant.users["staff"])
    response = await client.delete(f"/api/v1/workplaces/{created['id']}", headers=admin)
    assert response.status_code == 204, response.text
    assert await workplace_count(runtime, tenant) == 0
