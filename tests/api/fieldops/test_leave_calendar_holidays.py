"""The team calendar shows the public holidays of its range beside who is away: with a workplace, those kept there
(the tenant's, its region's, its own); with a department, the tenant's and those kept where its people work; with
neither, all of the tenant's; never another tenant's."""

from __future__ import annotations

from typing import Any

from sqlalchemy import update

from api.runtime import Runtime
from persistence.models import User
from tests.api.fieldops.fieldkit import Client, assign, make_workplace
from tests.api.fieldops.test_holidays_api import add_holiday
from tests.api.identity.arrange import Headers, add_department
from tests.kit import TenantKit

CALENDAR = "/api/v1/leave/calendar"
SPRING = {"from": "2030-03-01", "to": "2030-05-31"}


async def calendar(client: Client, headers: Headers, **params: Any) -> dict[str, Any]:
    response = await client.get(CALENDAR, params=SPRING | params, headers=headers)
    assert response.status_code == 200, response.text
    shown: dict[str, Any] = response.json()
    return shown


def names(shown: dict[str, Any]) -> list[str]:
    return [holiday["name"] for holiday in shown["holidays"]]


async def test_the_calendar_lists_the_tenants_holidays_in_its_range_by_date(client: Client, tenant: TenantKit) -> None:
    admin = await tenant.headers(client)
    await add_holiday(client, admin, "2030-05-01", "Labour day")
    await add_holiday(client, admin, "2030-04-01", "Spring day")
    await add_holiday(client, admin, "2030-06-01", "Summer day")
    shown = await calendar(client, await tenant.headers(client, "staff"))
    assert [(h["day"], h["name"], h.get("region"), h.get("workplace_id")) for h in shown["holidays"]] == [
        ("2030-04-01", "Spring day", None, None),
        ("2030-05-01", "Labour day", None, None),
    ]
    assert (shown["first"], shown["last"], shown["away"]) == ("2030-03-01", "2030-05-31", [])


async def test_a_workplace_calendar_shows_the_tenants_its_regions_and_its_own_holidays(
    client: Client, tenant: TenantKit
) -> None:
    admin = await tenant.headers(client)
    north = await make_workplace(client, admin, region="north")
    south = await make_workplace(client, admin, region="south")
    await add_holiday(client, admin, "2030-03-02", "Everyone's day")
    await add_holiday(client, admin, "2030-03-03", "Northern day", region="north")
    await add_holiday(client, admin, "2030-03-04", "Southern day", region="south")
    await add_holiday(client, admin, "2030-03-05", "North store's day", workplace_id=north["id"])
    await add_holiday(client, admin, "2030-03-06", "South store's day", workplace_id=south["id"])
    shown = await calendar(client, await tenant.headers(client, "supervisor"), workplace_id=north["id"])
    assert names(shown) == ["Everyone's day", "Northern day", "North store's day"]


async def test_a_department_calendar_shows_the_holidays_kept_where_its_people_work(
    client: Client, tenant: TenantKit, runtime: Runtime
) -> None:
    admin = await tenant.headers(client)
    north = await make_workplace(client, admin, region="north")
    south = await make_workplace(client, admin, region="south")
    department = await add_department(tenant, "Field north")
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        await session.execute(update(User).where(User.id == tenant.users["staff"]).values(department_id=department))
    await assign(client, admin, north["id"], tenant.users["staff"])
    await assign(client, admin, south["id"], tenant.users["supervisor"])
    await add_holiday(client, admin, "2030-03-02", "Everyone's day")
    await add_holiday(client, admin, "2030-03-03", "Northern day", region="north")
    await add_holiday(client, admin, "2030-03-04", "Southern day", region="south")
    await add_holiday(client, admin, "2030-03-05", "North store's day", workplace_id=north["id"])
    await add_holiday(client, admin, "2030-03-06", "South store's day", workplace_id=south["id"])
    shown = await calendar(client, await tenant.headers(client, "supervisor"), department_id=str(department))
    assert names(shown) == ["Everyone's day", "Northern day", "North store's day"]


async def test_another_tenants_holidays_are_not_on_the_calendar(
    client: Client, tenant: TenantKit, other_tenant: TenantKit
) -> None:
    await add_holiday(client, await other_tenant.headers(client), "2030-04-01", "Their day")
    await add_holiday(client, await tenant.headers(client), "2030-04-02", "Our day")
    assert names(await calendar(client, await tenant.headers(client, "staff"))) == ["Our day"]
