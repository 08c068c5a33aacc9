"""Calling off one occurrence of a weekly shift: stored, skipped by every expansion of the shift (the occurrence
listing, the lateness job behind the board, the overlap check), shown on the shift, audited and told to its person;
and the refusals (not an occurrence, twice, started, a one-off or cancelled shift, another tenant's shift, someone
who may not plan shifts), each with its code and nothing changed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from api.attendance.lateness import late_now
from api.runtime import Runtime
from persistence.models import AuditEvent, ShiftSkip
from tests.api.fieldops.fieldkit import Client
from tests.api.fieldops.test_shift_changes import shift_notices
from tests.api.fieldops.test_shifts_api import SHIFTS, one_off, staffed, weekly
from tests.api.identity.arrange import Headers, refusal
from tests.kit import TenantKit

# Monday 7 January 2030, Paris (UTC+1): the weekly shift runs Monday to Friday, 09:00 to 17:00 local.
FROM_DATE = "2030-01-07"
TUESDAY = "2030-01-08"
WEEK = {"from": "2030-01-07T00:00:00Z", "to": "2030-01-12T00:00:00Z"}


async def planned_weekly(client: Client, tenant: TenantKit, **rule: Any) -> tuple[str, str, Headers]:
    """The staff member's weekly shift from Monday 7 January 2030: its id, its workplace, the supervisor's headers."""
    workplace_id, supervisor = await staffed(client, tenant)
    body = weekly(tenant, workplace_id, **({"from_date": FROM_DATE} | rule))
    created = await client.post(SHIFTS, json=body, headers=supervisor)
    assert created.status_code == 201, created.text
    return created.json()["id"], workplace_id, supervisor


async def cancel(client: Client, headers: Headers, shift_id: str, day: str, reason: str = "Stocktake") -> Any:
    return await client.post(f"{SHIFTS}/{shift_id}/occurrences/{day}/cancel", json={"reason": reason}, headers=headers)


async def skip_count(runtime: Runtime, tenant: TenantKit) -> int:
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        return await session.scalar(select(func.count()).select_from(ShiftSkip)) or 0


async def local_starts(client: Client, headers: Headers, **params: Any) -> list[str]:
    response = await client.get(f"{SHIFTS}/occurrences", params=WEEK | params, headers=headers)
    assert response.status_code == 200, response.text
    return [item["starts_local"] for item in response.json()]


async def test_a_cancelled_occurrence_is_answered_with_its_date_and_local_start(
    client: Client, tenant: TenantKit
) -> None:
    shift_id, _, supervisor = await planned_weekly(client, tenant)
    response = await cancel(client, supervisor, shift_id, TUESDAY)
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["shift_id"], body["day"], body["starts_local"], body["reason"]) == (
        shift_id,
        TUESDAY,
        "2030-01-08T09:00:00+01:00",
        "Stocktake",
    )
    assert body["cancelled_by"] == str(tenant.users["supervisor"])


async def test_the_occurrence_listing_skips_only_the_cancelled_date(client: Client, tenant: TenantKit) -> None:
    shift_id, _, supervisor = await planned_weekly(client, tenant)
    await cancel(client, supervisor, shift_id, TUESDAY)
    assert await local_starts(client, supervisor) == [
        "2030-01-07T09:00:00+01:00",
        "2030-01-09T09:00:00+01:00",
        "2030-01-10T09:00:00+01:00",
        "2030-01-11T09:00:00+01:00",
    ]


async def test_the_shift_shows_its_cancelled_dates_when_read_listed_and_changed(
    client: Client, tenant: TenantKit
) -> None:
    shift_id, workplace_id, supervisor = await planned_weekly(client, tenant)
    await cancel(client, supervisor, shift_id, "2030-01-10")
    await cancel(client, supervisor, shift_id, TUESDAY)
    read = await client.get(f"{SHIFTS}/{shift_id}", headers=supervisor)
    assert read.json()["skipped_dates"] == [TUESDAY, "2030-01-10"]
    listed = await client.get(SHIFTS, params={"workplace_id": workplace_id}, headers=supervisor)
    assert [item["skipped_dates"] for item in listed.json()["items"]] == [[TUESDAY, "2030-01-10"]]
    changed = await client.patch(f"{SHIFTS}/{shift_id}", json={"note": "Tills"}, headers=supervisor)
    assert changed.json()["skipped_dates"] == [TUESDAY, "2030-01-10"]


async def test_the_person_is_told_of_the_cancelled_occurrence(
    client: Client, tenant: TenantKit, runtime: Runtime
) -> None:
    shift_id, _, supervisor = await planned_weekly(client, tenant)
    await cancel(client, supervisor, shift_id, TUESDAY)
    assert await shift_notices(runtime, tenant, tenant.users["staff"]) == ["planned", "occurrence_cancelled"]


async def test_a_cancelled_occurrence_is_audited_with_its_date_and_reason(
    client: Client, tenant: TenantKit, runtime: Runtime
) -> None:
    shift_id, _, supervisor = await planned_weekly(client, tenant)
    await cancel(client, supervisor, shift_id, TUESDAY)
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        event = await session.scalar(select(AuditEvent).where(AuditEvent.action == "shift.occurrence_cancel"))
    assert event is not None
    assert (str(event.target_id), event.details["day"], event.details["reason"]) == (shift_id, TUESDAY, "Stocktake")


async def test_a_cancelled_occurrence_frees_its_time_for_another_shift(client: Client, tenant: TenantKit) -> None:
    shift_id, workplace_id, supervisor = await planned_weekly(client, tenant)
    morning = one_off(tenant, workplace_id, "2030-01-08T10:00:00+01:00", "2030-01-08T12:00:00+01:00")
    assert refusal(await client.post(SHIFTS, json=morning, headers=supervisor)) == (409, "shift_overlap")
    await cancel(client, supervisor, shift_id, TUESDAY)
    assert (await client.post(SHIFTS, json=morning, headers=supervisor)).status_code == 201


async def test_nobody_is_late_for_a_cancelled_occurrence(client: Client, tenant: TenantKit, runtime: Runtime) -> None:
    shift_id, _, supervisor = await planned_weekly(client, tenant)
    tuesday_start = datetime(2030, 1, 8, 8, 0, tzinfo=UTC)
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        assert [late.starts_at for late in await late_now(session, tuesday_start + timedelta(hours=1))] == [
            tuesday_start
        ]
    await cancel(client, supervisor, shift_id, TUESDAY)
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        assert await late_now(session, tuesday_start + timedelta(hours=1)) == []


async def test_a_date_without_an_occurrence_is_refused(client: Client, tenant: TenantKit, runtime: Runtime) -> None:
    shift_id, _, supervisor = await planned_weekly(client, tenant, until_date="2030-01-31")
    for day in ("2030-01-12", "2030-01-06", "2030-02-01"):  # a Saturday, before the first, after the last date
        response = await cancel(client, supervisor, shift_id, day)
        assert refusal(response) == (422, "not_an_occurrence"), day
    assert await skip_count(runtime, tenant) == 0


async def test_an_occurrence_cannot_be_cancelled_twice(client: Client, tenant: TenantKit, runtime: Runtime) -> None:
    shift_id, _, supervisor = await planned_weekly(client, tenant)
    await cancel(client, supervisor, shift_id, TUESDAY)
    assert refusal(await cancel(client, supervisor, shift_id, TUESDAY, "Again")) == (409, "occurrence_cancelled")
    assert await skip_count(runtime, tenant) == 1
    assert await shift_notices(runtime, tenant, tenant.users["staff"]) == ["planned", "occurrence_cancelled"]


async def test_an_occurrence_that_has_started_cannot_be_cancelled(
    client: Client, tenant: TenantKit, runtime: Runtime
) -> None:
    shift_id, _, supervisor = await planned_weekly(client, tenant, from_date="2026-03-02")
    assert refusal(await cancel(client, supervisor, shift_id, "2026-03-03")) == (409, "occurrence_started")
    assert await skip_count(runtime, tenant) == 0


async def test_a_one_off_shift_is_not_cancelled_one_occurrence_at_a_time(
    client: Client, tenant: TenantKit, runtime: Runtime
) -> None:
    workplace_id, supervisor = await staffed(client, tenant)
    body = one_off(tenant, workplace_id, "2030-01-08T09:00:00+01:00", "2030-01-08T17:00:00+01:00")
    shift_id = (await client.post(SHIFTS, json=body, headers=supervisor)).json()["id"]
    assert refusal(await cancel(client, supervisor, shift_id, TUESDAY)) == (422, "not_recurring")
    assert await skip_count(runtime, tenant) == 0


async def test_an_occurrence_of_a_cancelled_shift_is_refused(
    client: Client, tenant: TenantKit, runtime: Runtime
) -> None:
    shift_id, _, supervisor = await planned_weekly(client, tenant)
    await client.post(f"{SHIFTS}/{shift_id}/cancel", json={"reason": "Store closed"}, headers=supervisor)
    assert refusal(await cancel(client, supervisor, shift_id, TUESDAY)) == (409, "shift_cancelled")
    assert await skip_count(runtime, tenant) == 0


async def test_another_tenants_shift_is_not_found(client: Client, tenant: TenantKit, runtime: Runtime) -> None:
    shift_id, _, _ = await planned_weekly(client, tenant)
    other = await TenantKit.create(runtime)
    assert refusal(await cancel(client, await other.headers(client, "supervisor"), shift_id, TUESDAY)) == (
        404,
        "not_found",
    )
    assert await skip_count(runtime, tenant) == 0


async def test_staff_cannot_cancel_an_occurrence(client: Client, tenant: TenantKit, runtime: Runtime) -> None:
    shift_id, _, _ = await planned_weekly(client, tenant)
    assert refusal(await cancel(client, await tenant.headers(client, "staff"), shift_id, TUESDAY)) == (
        403,
        "forbidden",
    )
    assert await skip_count(runtime, tenant) == 0
