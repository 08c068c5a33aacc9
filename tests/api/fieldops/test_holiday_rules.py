"""Where holidays count: leave is not charged for them, work on them is rest-day work for overtime, timesheets
name them, and nobody is late for a shift on a holiday of its workplace. A holiday of one region is a person's
only when it is kept at every workplace they are assigned to."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from api.attendance.lateness import late_now
from api.runtime import Runtime
from tests.api.fieldops.fieldkit import Client, assign, make_workplace, report_to, stay
from tests.api.fieldops.test_holidays_api import HOLIDAYS, add_holiday
from tests.api.fieldops.test_lateness_job import STARTS, shift_at
from tests.api.fieldops.test_leave_api import MONDAY, ask, balance, training_type
from tests.api.fieldops.test_overtime_api import recompute, records, with_rules
from tests.api.fieldops.test_timesheets import mine
from tests.api.identity.arrange import refusal
from tests.kit import TenantKit


@pytest.fixture
async def managed(tenant: TenantKit) -> None:
    """The staff member reports to the supervisor, whom the default leave workflow asks."""
    await report_to(tenant, tenant.users["staff"], tenant.users["supervisor"])


@pytest.mark.usefixtures("managed")
async def test_leave_over_a_tenant_holiday_does_not_charge_it(client: Client, tenant: TenantKit) -> None:
    admin = await tenant.headers(client)
    await add_holiday(client, admin, (MONDAY + timedelta(days=2)).isoformat(), "Midweek holiday")
    type_id = await training_type(client, tenant)
    response = await ask(client, await tenant.headers(client, "staff"), type_id, MONDAY, MONDAY + timedelta(days=4))
    assert response.status_code == 201, response.text
    assert response.json()["days"] == 4


@pytest.mark.usefixtures("managed")
async def test_a_holiday_added_later_is_given_back_to_the_balance(client: Client, tenant: TenantKit) -> None:
    type_id = await training_type(client, tenant)
    staff = await tenant.headers(client, "staff")
    await ask(client, staff, type_id, MONDAY, MONDAY + timedelta(days=4))
    admin = await tenant.headers(client)
    holiday = await add_holiday(client, admin, (MONDAY + timedelta(days=1)).isoformat(), "Late news")
    assert (await balance(client, staff, "training"))["pending"] == 4
    await client.delete(f"{HOLIDAYS}/{holiday['id']}", headers=admin)
    assert (await balance(client, staff, "training"))["pending"] == 5


@pytest.mark.usefixtures("managed")
async def test_leave_only_on_a_holiday_is_refused(client: Client, tenant: TenantKit) -> None:
    await add_holiday(client, await tenant.headers(client), MONDAY.isoformat(), "Holiday")
    type_id = await training_type(client, tenant)
    response = await ask(client, await tenant.headers(client, "staff"), type_id, MONDAY, MONDAY)
    assert refusal(response) == (422, "no_working_days")


@pytest.mark.usefixtures("managed")
async def test_a_regions_holiday_is_not_charged_to_people_working_there(client: Client, tenant: TenantKit) -> None:
    admin = await tenant.headers(client)
    north = await make_workplace(client, admin, region="north")
    await assign(client, admin, north["id"], tenant.users["staff"])
    await add_holiday(client, admin, MONDAY.isoformat(), "Northern day", region="north")
    await add_holiday(client, admin, (MONDAY + timedelta(days=1)).isoformat(), "Southern day", region="south")
    type_id = await training_type(client, tenant)
    response = await ask(client, await tenant.headers(client, "staff"), type_id, MONDAY, MONDAY + timedelta(days=1))
    assert response.json()["days"] == 1


@pytest.mark.usefixtures("managed")
async def test_a_regions_holiday_is_charged_to_someone_also_working_elsewhere(
    client: Client, tenant: TenantKit
) -> None:
    admin = await tenant.headers(client)
    north = await make_workplace(client, admin, region="north")
    south = await make_workplace(client, admin, region="south")
    for place in (north, south):
        await assign(client, admin, place["id"], tenant.users["staff"])
    await add_holiday(client, admin, MONDAY.isoformat(), "Northern day", region="north")
    type_id = await training_type(client, tenant)
    response = await ask(client, await tenant.headers(client, "staff"), type_id, MONDAY, MONDAY)
    assert response.json()["days"] == 1


async def test_work_on_a_holiday_is_rest_day_overtime(client: Client, tenant: TenantKit, runtime: Runtime) -> None:
    workplace_id = await with_rules(client, tenant, weekly_threshold_minutes=2400, rest_day_overtime=True)
    tuesday = datetime(2026, 1, 13, 8, tzinfo=UTC)
    await add_holiday(client, await tenant.headers(client), tuesday.date().isoformat(), "Holiday")
    await stay(tenant, tenant.users["staff"], workplace_id, tuesday, tuesday + timedelta(hours=2))
    await recompute(runtime, tenant, tuesday, tuesday + timedelta(hours=2))
    assert await records(runtime, tenant) == [("rest_day", "2026-01-13", 120, "pending")]


async def test_a_holiday_declared_after_the_work_turns_it_into_overtime(
    client: Client, tenant: TenantKit, runtime: Runtime
) -> None:
    workplace_id = await with_rules(client, tenant, weekly_threshold_minutes=2400, rest_day_overtime=True)
    tuesday = datetime(2026, 1, 13, 8, tzinfo=UTC)
    await stay(tenant, tenant.users["staff"], workplace_id, tuesday, tuesday + timedelta(hours=2))
    await recompute(runtime, tenant, tuesday, tuesday + timedelta(hours=2))
    assert await records(runtime, tenant) == []
    await add_holiday(client, await tenant.headers(client), tuesday.date().isoformat(), "Declared late")
    assert await records(runtime, tenant) == [("rest_day", "2026-01-13", 120, "pending")]


async def test_a_timesheet_names_the_holiday(client: Client, tenant: TenantKit) -> None:
    await add_holiday(client, await tenant.headers(client), "2026-05-01", "Labour day")
    sheet = await mine(client, await tenant.headers(client, "staff"), "2026-04-30", "2026-05-01")
    assert [day.get("holiday") for day in sheet["days"]] == [None, "Labour day"]


async def test_nobody_is_late_for_a_shift_on_a_holiday_of_its_workplace(
    client: Client, tenant: TenantKit, runtime: Runtime
) -> None:
    await shift_at(client, tenant)
    await add_holiday(client, await tenant.headers(client), STARTS.date().isoformat(), "Holiday")
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        assert await late_now(session, STARTS + timedelta(hours=1)) == []


async def test_a_holiday_elsewhere_does_not_excuse_lateness(
    client: Client, tenant: TenantKit, runtime: Runtime
) -> None:
    await shift_at(client, tenant)
    admin = await tenant.headers(client)
    elsewhere = await make_workplace(client, admin)
    await add_holiday(client, admin, STARTS.date().isoformat(), "Other store's day", workplace_id=elsewhere["id"])
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        late = await late_now(session, STARTS + timedelta(hours=1))
    assert [item.user_id for item in late] == [tenant.users["staff"]]
