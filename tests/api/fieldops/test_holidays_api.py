"""The holiday calendar: admins add, move and remove holidays for the tenant, a region or a workplace; everyone
who sees shifts lists them; one per date and scope; other tenants' holidays and workplaces are not found."""

from __future__ import annotations

from typing import Any

from api.runtime import Runtime
from tests.api.fieldops.fieldkit import Client, make_workplace
from tests.api.identity.arrange import Headers, refusal
from tests.kit import TenantKit

HOLIDAYS = "/api/v1/holidays"
YEAR = {"from": "2030-01-01", "to": "2030-12-31"}


async def add_holiday(client: Client, admin: Headers, day: str, name: str = "Holiday", **scope: Any) -> dict[str, Any]:
    response = await client.post(HOLIDAYS, json={"day": day, "name": name} | scope, headers=admin)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def days_listed(client: Client, headers: Headers, **params: Any) -> list[str]:
    response = await client.get(HOLIDAYS, params=YEAR | params, headers=headers)
    assert response.status_code == 200, response.text
    return [item["day"] for item in response.json()["items"]]


async def test_staff_list_the_tenants_holidays_by_date(client: Client, tenant: TenantKit) -> None:
    admin = await tenant.headers(client)
    await add_holiday(client, admin, "2030-12-25", "Christmas")
    await add_holiday(client, admin, "2030-05-01", "Labour day")
    assert await days_listed(client, await tenant.headers(client, "staff")) == ["2030-05-01", "2030-12-25"]


async def test_a_workplace_lists_the_tenants_its_regions_and_its_own_holidays(
    client: Client, tenant: TenantKit
) -> None:
    admin = await tenant.headers(client)
    north = await make_workplace(client, admin, region="north")
    south = await make_workplace(client, admin, region="south")
    await add_holiday(client, admin, "2030-01-01", "New year")
    await add_holiday(client, admin, "2030-03-01", "Northern day", region="north")
    await add_holiday(client, admin, "2030-04-01", "Southern day", region="south")
    await add_holiday(client, admin, "2030-06-01", "Store's day", workplace_id=north["id"])
    await add_holiday(client, admin, "2030-07-01", "Other store's day", workplace_id=south["id"])
    listed = await days_listed(client, admin, workplace_id=north["id"])
    assert listed == ["2030-01-01", "2030-03-01", "2030-06-01"]


async def test_a_region_and_a_workplace_at_once_are_refused(client: Client, tenant: TenantKit) -> None:
    admin = await tenant.headers(client)
    place = await make_workplace(client, admin, region="north")
    body = {"day": "2030-01-01", "name": "Both", "region": "north", "workplace_id": place["id"]}
    assert refusal(await client.post(HOLIDAYS, json=body, headers=admin)) == (422, "invalid_scope")


async def test_a_second_holiday_on_a_date_and_scope_is_refused(client: Client, tenant: TenantKit) -> None:
    admin = await tenant.headers(client)
    await add_holiday(client, admin, "2030-01-01", "New year")
    again = await client.post(HOLIDAYS, json={"day": "2030-01-01", "name": "Again"}, headers=admin)
    assert refusal(again) == (409, "conflict")


async def test_a_holiday_is_moved_and_renamed(client: Client, tenant: TenantKit) -> None:
    admin = await tenant.headers(client)
    holiday = await add_holiday(client, admin, "2030-01-01", "New year")
    body = {"day": "2030-01-02", "name": "Day after"}
    response = await client.patch(f"{HOLIDAYS}/{holiday['id']}", json=body, headers=admin)
    assert response.status_code == 200, response.text
    assert (response.json()["day"], response.json()["name"]) == ("2030-01-02", "Day after")


async def test_a_removed_holiday_is_no_longer_listed(client: Client, tenant: TenantKit) -> None:
    admin = await tenant.headers(client)
    holiday = await add_holiday(client, admin, "2030-01-01", "New year")
    assert (await client.delete(f"{HOLIDAYS}/{holiday['id']}", headers=admin)).status_code == 204
    assert await days_listed(client, admin) == []


async def test_staff_cannot_add_holidays(client: Client, tenant: TenantKit) -> None:
    staff = await tenant.headers(client, "staff")
    response = await client.post(HOLIDAYS, json={"day": "2030-01-01", "name": "Mine"}, headers=staff)
    assert refusal(response)[0] == 403


async def test_an_inverted_range_is_refused(client: Client, tenant: TenantKit) -> None:
    response = await client.get(
        HOLIDAYS, params={"from": "2030-02-01", "to": "2030-01-01"}, headers=await tenant.headers(client)
    )
    assert refusal(response) == (422, "invalid_range")


async def test_another_tenants_holidays_are_neither_listed_nor_found(
    client: Client, tenant: TenantKit, runtime: Runtime
) -> None:
    holiday = await add_holiday(client, await tenant.headers(client), "2030-01-01", "New year")
    other = await TenantKit.create(runtime)
    headers = await other.headers(client)
    assert await days_listed(client, headers) == []
    moved = await client.patch(f"{HOLIDAYS}/{holiday['id']}", json={"name": "Mine"}, headers=headers)
    assert refusal(moved) == (404, "not_found")


async def test_another_tenants_workplace_is_not_found(client: Client, tenant: TenantKit, runtime: Runtime) -> None:
    place = await make_workplace(client, await tenant.headers(client))
    other = await TenantKit.create(runtime)
    body = {"day": "2030-01-01", "name": "Theirs", "workplace_id": place["id"]}
    assert refusal(await client.post(HOLIDAYS, json=body, headers=await other.headers(client))) == (404, "not_found")
