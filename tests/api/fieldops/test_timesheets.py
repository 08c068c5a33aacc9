"""Timesheets: days cut in the person's time zone (23 and 25 hours on the DST days), stays across midnight split,
breaks subtracted, weeks summed, and the bad inputs: ranges, other people without the permission, other tenants."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from api.runtime import Runtime
from persistence.models import AttendanceBreak
from tests.api.fieldops.fieldkit import Client, make_workplace, set_timezone, stay
from tests.api.identity.arrange import Headers, refusal
from tests.kit import TenantKit

SHEETS = "/api/v1/attendance/timesheets"


async def parisian(client: Client, tenant: TenantKit) -> tuple[str, Headers]:
    """A workplace, the staff member living in Paris time, and their headers."""
    workplace = await make_workplace(client, await tenant.headers(client))
    await set_timezone(tenant, tenant.users["staff"], "Europe/Paris")
    return workplace["id"], await tenant.headers(client, "staff")


async def mine(client: Client, headers: Headers, first: str, last: str) -> dict[str, Any]:
    response = await client.get(f"{SHEETS}/mine", params={"from": first, "to": last}, headers=headers)
    assert response.status_code == 200, response.text
    sheet: dict[str, Any] = response.json()
    return sheet


async def add_break(runtime: Runtime, tenant: TenantKit, attendance_id: Any, start: datetime, end: datetime) -> None:
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        session.add(
            AttendanceBreak(
                tenant_id=tenant.id,
                attendance_id=attendance_id,
                user_id=tenant.users["staff"],
                started_at=start,
                ended_at=end,
            )
        )


async def test_the_spring_forward_day_lasts_23_hours_and_counts_real_time(client: Client, tenant: TenantKit) -> None:
    workplace_id, staff = await parisian(client, tenant)
    # 01:00 to 05:00 local across the jump at 02:00: three real hours (00:00Z to 03:00Z).
    await stay(
        tenant,
        tenant.users["staff"],
        workplace_id,
        datetime(2026, 3, 29, 0, tzinfo=UTC),
        datetime(2026, 3, 29, 3, tzinfo=UTC),
    )
    sheet = await mine(client, staff, "2026-03-28", "2026-03-30")
    day = {d["date"]: d for d in sheet["days"]}["2026-03-29"]
    assert (day["hours"], day["worked_seconds"]) == (23, 3 * 3600)
    assert (day["starts_at"], day["ends_at"]) == ("2026-03-28T23:00:00Z", "2026-03-29T22:00:00Z")


async def test_the_fall_back_day_lasts_25_hours(client: Client, tenant: TenantKit) -> None:
    workplace_id, staff = await parisian(client, tenant)
    # A whole local day at work, midnight to midnight: 25 real hours.
    await stay(
        tenant,
        tenant.users["staff"],
        workplace_id,
        datetime(2026, 10, 24, 22, tzinfo=UTC),
        datetime(2026, 10, 25, 23, tzinfo=UTC),
    )
    sheet = await mine(client, staff, "2026-10-25", "2026-10-25")
    [day] = sheet["days"]
    assert (day["hours"], day["worked_seconds"]) == (25, 25 * 3600)


async def test_a_stay_across_local_midnight_counts_in_both_days(client: Client, tenant: TenantKit) -> None:
    workplace_id, staff = await parisian(client, tenant)
    # 22:00 to 02:00 Paris time (UTC+1 in January).
    await stay(
        tenant,
        tenant.users["staff"],
        workplace_id,
        datetime(2026, 1, 14, 21, tzinfo=UTC),
        datetime(2026, 1, 15, 1, tzinfo=UTC),
    )
    sheet = await mine(client, staff, "2026-01-14", "2026-01-15")
    assert [d["worked_seconds"] for d in sheet["days"]] == [2 * 3600, 2 * 3600]


async def test_breaks_are_subtracted_from_worked_time(client: Client, tenant: TenantKit, runtime: Runtime) -> None:
    workplace_id, staff = await parisian(client, tenant)
    start = datetime(2026, 1, 14, 8, tzinfo=UTC)
    attendance_id = await stay(tenant, tenant.users["staff"], workplace_id, start, start + timedelta(hours=8))
    await add_break(runtime, tenant, attendance_id, start + timedelta(hours=4), start + timedelta(hours=4, minutes=45))
    [day] = (await mine(client, staff, "2026-01-14", "2026-01-14"))["days"]
    assert (day["worked_seconds"], day["break_seconds"], day["net_seconds"]) == (8 * 3600, 2700, 8 * 3600 - 2700)


async def test_weeks_sum_their_days_from_monday(client: Client, tenant: TenantKit) -> None:
    workplace_id, staff = await parisian(client, tenant)
    # Friday 16 and Monday 19 January 2026: two weeks, two hours each.
    for day in (16, 19):
        start = datetime(2026, 1, day, 8, tzinfo=UTC)
        await stay(tenant, tenant.users["staff"], workplace_id, start, start + timedelta(hours=2))
    sheet = await mine(client, staff, "2026-01-12", "2026-01-25")
    assert [(w["week_start"], w["net_seconds"]) for w in sheet["weeks"]] == [
        ("2026-01-12", 7200),
        ("2026-01-19", 7200),
    ]
    assert (sheet["net_seconds"], sheet["timezone"]) == (14400, "Europe/Paris")


async def test_days_are_cut_in_the_persons_own_time_zone(client: Client, tenant: TenantKit) -> None:
    workplace = await make_workplace(client, await tenant.headers(client))
    await set_timezone(tenant, tenant.users["staff"], "America/New_York")
    # 03:00 UTC on the 15th is 22:00 on the 14th in New York.
    start = datetime(2026, 1, 15, 3, tzinfo=UTC)
    await stay(tenant, tenant.users["staff"], workplace["id"], start, start + timedelta(hours=1))
    sheet = await mine(client, await tenant.headers(client, "staff"), "2026-01-14", "2026-01-15")
    assert [d["worked_seconds"] for d in sheet["days"]] == [3600, 0]


async def test_a_range_backwards_or_too_long_is_refused(client: Client, tenant: TenantKit) -> None:
    staff = await tenant.headers(client, "staff")
    backwards = await client.get(f"{SHEETS}/mine", params={"from": "2026-01-10", "to": "2026-01-01"}, headers=staff)
    assert refusal(backwards) == (422, "invalid_range")
    long = await client.get(f"{SHEETS}/mine", params={"from": "2026-01-01", "to": "2026-06-01"}, headers=staff)
    assert refusal(long) == (422, "invalid_range")


async def test_a_supervisor_reads_someone_elses_timesheet_but_staff_cannot(client: Client, tenant: TenantKit) -> None:
    workplace_id, staff = await parisian(client, tenant)
    start = datetime(2026, 1, 14, 8, tzinfo=UTC)
    await stay(tenant, tenant.users["staff"], workplace_id, start, start + timedelta(hours=1))
    url = f"{SHEETS}/{tenant.users['staff']}"
    params = {"from": "2026-01-14", "to": "2026-01-14"}
    response = await client.get(url, params=params, headers=await tenant.headers(client, "supervisor"))
    assert response.json()["net_seconds"] == 3600
    other = f"{SHEETS}/{tenant.users['supervisor']}"
    assert refusal(await client.get(other, params=params, headers=staff)) == (403, "forbidden")


async def test_another_tenants_person_is_not_found(client: Client, tenant: TenantKit, other_tenant: TenantKit) -> None:
    url = f"{SHEETS}/{other_tenant.users['staff']}"
    params = {"from": "2026-01-14", "to": "2026-01-14"}
    response = await client.get(url, params=params, headers=await tenant.headers(client, "supervisor"))
    assert refusal(response) == (404, "not_found")
