"""Shifts: one-off and weekly, their occurrences across DST changes, no overlaps for one person (one-off against
recurring too), and the bad inputs: naive times, empty or long ranges, unassigned people, other tenants' ids."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from api.runtime import Runtime
from persistence.models import Shift
from tests.api.fieldops.fieldkit import Client, assign, make_workplace
from tests.api.identity.arrange import Headers, refusal
from tests.kit import TenantKit

SHIFTS = "/api/v1/shifts"


async def staffed(client: Client, tenant: TenantKit) -> tuple[str, Headers]:
    """A Paris workplace with the staff member assigned; the supervisor's headers (who plans shifts)."""
    admin = await tenant.headers(client)
    workplace = await make_workplace(client, admin)
    await assign(client, admin, workplace["id"], tenant.users["staff"])
    return workplace["id"], await tenant.headers(client, "supervisor")


def one_off(tenant: TenantKit, workplace_id: str, starts: str, ends: str) -> dict[str, Any]:
    return {"user_id": str(tenant.users["staff"]), "workplace_id": workplace_id, "starts_at": starts, "ends_at": ends}


def weekly(tenant: TenantKit, workplace_id: str, **rule: Any) -> dict[str, Any]:
    recurrence = {"weekdays": ["mon", "tue", "wed", "thu", "fri"], "start_time": "09:00", "duration_minutes": 480}
    recurrence |= {"from_date": "2026-03-02"} | rule
    return {"user_id": str(tenant.users["staff"]), "workplace_id": workplace_id, "recurrence": recurrence}


async def shift_count(runtime: Runtime, tenant: TenantKit) -> int:
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        return await session.scalar(select(func.count()).select_from(Shift)) or 0


async def test_a_one_off_shift_is_planned(client: Client, tenant: TenantKit) -> None:
    workplace_id, supervisor = await staffed(client, tenant)
    body = one_off(tenant, workplace_id, "2026-06-01T09:00:00+02:00", "2026-06-01T17:00:00+02:00")
    response = await client.post(SHIFTS, json=body, headers=supervisor)
    assert response.status_code == 201, response.text
    assert response.json()["kind"] == "one_off"
    assert response.json()["starts_at"] == "2026-06-01T07:00:00Z"


async def test_weekly_occurrences_keep_their_local_time_across_the_spring_change(
    client: Client, tenant: TenantKit
) -> None:
    workplace_id, supervisor = await staffed(client, tenant)
    rule = {"weekdays": ["sat", "sun", "mon"], "from_date": "2026-03-28"}
    created = await client.post(SHIFTS, json=weekly(tenant, workplace_id, **rule), headers=supervisor)
    assert created.status_code == 201, created.text
    response = await client.get(
        f"{SHIFTS}/occurrences",
        params={"from": "2026-03-28T00:00:00+01:00", "to": "2026-03-31T00:00:00+02:00"},
        headers=supervisor,
    )
    assert response.status_code == 200, response.text
    # 09:00 in Paris is 08:00 UTC before 29 March 2026 and 07:00 UTC from then on; each lasts 8 real hours.
    assert [(o["starts_at"], o["ends_at"]) for o in response.json()] == [
        ("2026-03-28T08:00:00Z", "2026-03-28T16:00:00Z"),
        ("2026-03-29T07:00:00Z", "2026-03-29T15:00:00Z"),
        ("2026-03-30T07:00:00Z", "2026-03-30T15:00:00Z"),
    ]
    assert [o["starts_local"] for o in response.json()][1] == "2026-03-29T09:00:00+02:00"


async def test_a_night_shift_across_the_autumn_change_lasts_its_real_length(client: Client, tenant: TenantKit) -> None:
    workplace_id, supervisor = await staffed(client, tenant)
    rule = {"weekdays": ["sat"], "start_time": "22:00", "duration_minutes": 600, "from_date": "2026-10-24"}
    await client.post(SHIFTS, json=weekly(tenant, workplace_id, **rule), headers=supervisor)
    response = await client.get(
        f"{SHIFTS}/occurrences",
        params={"from": "2026-10-24T00:00:00Z", "to": "2026-10-26T00:00:00Z"},
        headers=supervisor,
    )
    [night] = response.json()
    # 22:00 CEST is 20:00 UTC; ten hours later the clocks have gone back, so it ends at 07:00 CET.
    assert (night["starts_local"], night["ends_local"]) == ("2026-10-24T22:00:00+02:00", "2026-10-25T07:00:00+01:00")


async def test_overlapping_one_off_shifts_are_refused(client: Client, tenant: TenantKit, runtime: Runtime) -> None:
    workplace_id, supervisor = await staffed(client, tenant)
    first = await client.post(
        SHIFTS, json=one_off(tenant, workplace_id, "2026-06-01T09:00:00Z", "2026-06-01T17:00:00Z"), headers=supervisor
    )
    response = await client.post(
        SHIFTS, json=one_off(tenant, workplace_id, "2026-06-01T16:00:00Z", "2026-06-01T20:00:00Z"), headers=supervisor
    )
    assert refusal(response) == (409, "shift_overlap")
    assert response.json()["error"]["details"]["shift_id"] == first.json()["id"]
    assert await shift_count(runtime, tenant) == 1


async def test_back_to_back_shifts_do_not_overlap(client: Client, tenant: TenantKit) -> None:
    workplace_id, supervisor = await staffed(client, tenant)
    await client.post(
        SHIFTS, json=one_off(tenant, workplace_id, "2026-06-01T09:00:00Z", "2026-06-01T17:00:00Z"), headers=supervisor
    )
    response = await client.post(
        SHIFTS, json=one_off(tenant, workplace_id, "2026-06-01T17:00:00Z", "2026-06-01T20:00:00Z"), headers=supervisor
    )
    assert response.status_code == 201, response.text


async def test_a_one_off_shift_over_a_weekly_occurrence_is_refused(client: Client, tenant: TenantKit) -> None:
    workplace_id, supervisor = await staffed(client, tenant)
    await client.post(SHIFTS, json=weekly(tenant, workplace_id), headers=supervisor)
    # Wednesday 3 June 2026, 16:00 to 18:00 in Paris: the weekly 09:00-17:00 shift runs until 17:00.
    body = one_off(tenant, workplace_id, "2026-06-03T16:00:00+02:00", "2026-06-03T18:00:00+02:00")
    response = await client.post(SHIFTS, json=body, headers=supervisor)
    assert refusal(response) == (409, "shift_overlap")
    assert response.json()["error"]["details"]["starts_at"] == "2026-06-03T07:00:00+00:00"


async def test_a_one_off_shift_on_a_free_weekday_is_accepted(client: Client, tenant: TenantKit) -> None:
    workplace_id, supervisor = await staffed(client, tenant)
    await client.post(SHIFTS, json=weekly(tenant, workplace_id), headers=supervisor)
    body = one_off(tenant, workplace_id, "2026-06-06T09:00:00+02:00", "2026-06-06T17:00:00+02:00")  # a Saturday
    assert (await client.post(SHIFTS, json=body, headers=supervisor)).status_code == 201


async def test_two_weekly_shifts_sharing_a_weekday_are_refused(client: Client, tenant: TenantKit) -> None:
    workplace_id, supervisor = await staffed(client, tenant)
    await client.post(SHIFTS, json=weekly(tenant, workplace_id), headers=supervisor)
    later = weekly(tenant, workplace_id, weekdays=["fri", "sat"], start_time="16:00", from_date="2027-01-01")
    assert refusal(await client.post(SHIFTS, json=later, headers=supervisor)) == (409, "shift_overlap")


async def test_weekly_shifts_in_separate_date_ranges_are_accepted(client: Client, tenant: TenantKit) -> None:
    workplace_id, supervisor = await staffed(client, tenant)
    await client.post(SHIFTS, json=weekly(tenant, workplace_id, until_date="2026-05-31"), headers=supervisor)
    response = await client.post(SHIFTS, json=weekly(tenant, workplace_id, from_date="2026-06-01"), headers=supervisor)
    assert response.status_code == 201, response.text


async def test_another_persons_shift_does_not_clash(client: Client, tenant: TenantKit) -> None:
    workplace_id, supervisor = await staffed(client, tenant)
    await assign(client, await tenant.headers(client), workplace_id, tenant.users["supervisor"], "supervisor")
    await client.post(SHIFTS, json=weekly(tenant, workplace_id), headers=supervisor)
    theirs = weekly(tenant, workplace_id) | {"user_id": str(tenant.users["supervisor"])}
    assert (await client.post(SHIFTS, json=theirs, headers=supervisor)).status_code == 201


async def test_a_naive_time_is_refused(client: Client, tenant: TenantKit, runtime: Runtime) -> None:
    workplace_id, supervisor = await staffed(client, tenant)
    body = one_off(tenant, workplace_id, "2026-06-01T09:00:00", "2026-06-01T17:00:00")
    assert refusal(await client.post(SHIFTS, json=body, headers=supervisor)) == (422, "naive_datetime")
    assert await shift_count(runtime, tenant) == 0


async def test_a_shift_ending_before_it_starts_is_refused(client: Client, tenant: TenantKit) -> None:
    workplace_id, supervisor = await staffed(client, tenant)
    body = one_off(tenant, workplace_id, "2026-06-01T17:00:00Z", "2026-06-01T09:00:00Z")
    assert refusal(await client.post(SHIFTS, json=body, headers=supervisor)) == (422, "invalid_range")


async def test_a_shift_over_23_hours_is_refused(client: Client, tenant: TenantKit) -> None:
    workplace_id, supervisor = await staffed(client, tenant)
    body = one_off(tenant, workplace_id, "2026-06-01T00:00:00Z", "2026-06-02T00:00:00Z")
    assert refusal(await client.post(SHIFTS, json=body, headers=supervisor)) == (422, "invalid_range")


async def test_a_recurrence_ending_before_it_starts_is_refused(client: Client, tenant: TenantKit) -> None:
    workplace_id, supervisor = await staffed(client, tenant)
    body = weekly(tenant, workplace_id, until_date="2026-01-01")
    assert refusal(await client.post(SHIFTS, json=body, headers=supervisor)) == (422, "invalid_range")


async def test_both_shapes_at_once_are_refused(client: Client, tenant: TenantKit) -> None:
    workplace_id, supervisor = await staffed(client, tenant)
    body = weekly(tenant, workplace_id) | {"starts_at": "2026-06-01T09:00:00Z", "ends_at": "2026-06-01T17:00:00Z"}
    assert refusal(await client.post(SHIFTS, json=body, headers=supervisor)) == (422, "invalid_shift")


async def test_a_person_not_assigned_to_the_workplace_gets_no_shift(client: Client, tenant: TenantKit) -> None:
    workplace = await make_workplace(client, await tenant.headers(client))
    body = one_off(tenant, workplace["id"], "2026-06-01T09:00:00Z", "2026-06-01T17:00:00Z")
    response = await client.post(SHIFTS, json=body, headers=await tenant.headers(client, "supervisor"))
    assert refusal(response) == (422, "user_not_assigned")


async def test_another_tenants_workplace_or_person_is_not_found(
    client: Client, tenant: TenantKit, other_tenant: TenantKit
) -> None:
    workplace_id, supervisor = await staffed(client, tenant)
    theirs = await make_workplace(client, await other_tenant.headers(client))
    body = one_off(tenant, theirs["id"], "2026-06-01T09:00:00Z", "2026-06-01T17:00:00Z")
    assert refusal(await client.post(SHIFTS, json=body, headers=supervisor)) == (404, "not_found")
    body = one_off(tenant, workplace_id, "2026-06-01T09:00:00Z", "2026-06-01T17:00:00Z")
    body["user_id"] = str(other_tenant.users["staff"])
    assert refusal(await client.post(SHIFTS, json=body, headers=supervisor)) == (404, "not_found")


async def test_another_tenants_shift_cannot_be_read_or_deleted(
    client: Client, tenant: TenantKit, other_tenant: TenantKit
) -> None:
    workplace_id, supervisor = await staffed(client, other_tenant)
    body = one_off(other_tenant, workplace_id, "2026-06-01T09:00:00Z", "2026-06-01T17:00:00Z")
    shift_id = (await client.post(SHIFTS, json=body, headers=supervisor)).json()["id"]
    mine = await tenant.headers(client, "supervisor")
    assert refusal(await client.get(f"{SHIFTS}/{shift_id}", headers=mine)) == (404, "not_found")
    assert refusal(await client.delete(f"{SHIFTS}/{shift_id}", headers=mine)) == (404, "not_found")


async def test_a_deleted_shift_frees_its_time(client: Client, tenant: TenantKit) -> None:
    workplace_id, supervisor = await staffed(client, tenant)
    body = one_off(tenant, workplace_id, "2026-06-01T09:00:00Z", "2026-06-01T17:00:00Z")
    shift_id = (await client.post(SHIFTS, json=body, headers=supervisor)).json()["id"]
    assert (await client.delete(f"{SHIFTS}/{shift_id}", headers=supervisor)).status_code == 204
    assert (await client.post(SHIFTS, json=body, headers=supervisor)).status_code == 201


async def test_staff_read_shifts_but_cannot_plan_them(client: Client, tenant: TenantKit) -> None:
    workplace_id, _ = await staffed(client, tenant)
    staff = await tenant.headers(client, "staff")
    body = one_off(tenant, workplace_id, "2026-06-01T09:00:00Z", "2026-06-01T17:00:00Z")
    assert refusal(await client.post(SHIFTS, json=body, headers=staff)) == (403, "forbidden")
    assert (await client.get(SHIFTS, headers=staff)).status_code == 200


async def test_an_occurrence_range_must_be_aware_and_short(client: Client, tenant: TenantKit) -> None:
    supervisor = await tenant.headers(client, "supervisor")
    naive = {"from": "2026-06-01T00:00:00", "to": "2026-06-02T00:00:00Z"}
    assert refusal(await client.get(f"{SHIFTS}/occurrences", params=naive, headers=supervisor)) == (
        422,
        "naive_datetime",
    )
    long = {"from": "2026-01-01T00:00:00Z", "to": "2026-06-01T00:00:00Z"}
    assert refusal(await client.get(f"{SHIFTS}/occurrences", params=long, headers=supervisor)) == (
        422,
        "invalid_range",
    )
