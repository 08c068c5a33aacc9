"""Changing and cancelling shifts: new times, person or workplace checked as a new shift is (no overlap, end after
start, weekly times read in the new workplace's time zone), the people concerned told in the same transaction, and
every change audited."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import select

from api.attendance.lateness import late_now
from api.runtime import Runtime
from persistence.models import AuditEvent, Notification
from tests.api.fieldops.fieldkit import Client, assign, make_workplace
from tests.api.fieldops.test_lateness_job import STARTS, shift_at
from tests.api.fieldops.test_shifts_api import SHIFTS, one_off, staffed, weekly
from tests.api.identity.arrange import refusal
from tests.kit import TenantKit

MORNING = ("2026-06-01T09:00:00+02:00", "2026-06-01T13:00:00+02:00")


async def planned(client: Client, tenant: TenantKit, body: dict[str, Any] | None = None) -> tuple[str, str, Any]:
    """A morning shift of the staff member: its id, its workplace and the supervisor's headers."""
    workplace_id, supervisor = await staffed(client, tenant)
    created = await client.post(SHIFTS, json=body or one_off(tenant, workplace_id, *MORNING), headers=supervisor)
    assert created.status_code == 201, created.text
    return created.json()["id"], workplace_id, supervisor


async def shift_notices(runtime: Runtime, tenant: TenantKit, user_id: UUID) -> list[str]:
    """The ``change`` of each shift notification the person has, oldest first."""
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        rows = await session.scalars(
            select(Notification)
            .where(Notification.user_id == user_id, Notification.category == "shift")
            .order_by(Notification.created_at, Notification.id)
        )
        return [row.data.get("change", "") for row in rows]


async def test_new_times_are_kept_and_the_person_is_told(client: Client, tenant: TenantKit, runtime: Runtime) -> None:
    shift_id, _, supervisor = await planned(client, tenant)
    body = {"starts_at": "2026-06-01T14:00:00+02:00", "ends_at": "2026-06-01T18:00:00+02:00"}
    response = await client.patch(f"{SHIFTS}/{shift_id}", json=body, headers=supervisor)
    assert response.status_code == 200, response.text
    assert (response.json()["starts_at"], response.json()["ends_at"]) == (
        "2026-06-01T12:00:00Z",
        "2026-06-01T16:00:00Z",
    )
    assert await shift_notices(runtime, tenant, tenant.users["staff"]) == ["planned", "changed"]


async def test_a_change_is_audited_with_the_times_before_and_after(
    client: Client, tenant: TenantKit, runtime: Runtime
) -> None:
    shift_id, _, supervisor = await planned(client, tenant)
    body = {"starts_at": "2026-06-01T10:00:00+02:00", "ends_at": "2026-06-01T13:00:00+02:00"}
    await client.patch(f"{SHIFTS}/{shift_id}", json=body, headers=supervisor)
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        event = await session.scalar(select(AuditEvent).where(AuditEvent.action == "shift.update"))
    assert event is not None
    assert event.details["before"]["starts_at"].startswith("2026-06-01 07:00")
    assert event.details["after"]["starts_at"].startswith("2026-06-01 08:00")


async def test_an_end_before_the_start_is_refused(client: Client, tenant: TenantKit) -> None:
    shift_id, _, supervisor = await planned(client, tenant)
    body = {"starts_at": "2026-06-01T18:00:00+02:00", "ends_at": "2026-06-01T14:00:00+02:00"}
    assert refusal(await client.patch(f"{SHIFTS}/{shift_id}", json=body, headers=supervisor)) == (422, "invalid_range")


async def test_a_start_without_an_end_is_refused(client: Client, tenant: TenantKit) -> None:
    shift_id, _, supervisor = await planned(client, tenant)
    body = {"starts_at": "2026-06-01T18:00:00+02:00"}
    assert refusal(await client.patch(f"{SHIFTS}/{shift_id}", json=body, headers=supervisor)) == (422, "invalid_shift")


async def test_a_naive_time_is_refused(client: Client, tenant: TenantKit) -> None:
    shift_id, _, supervisor = await planned(client, tenant)
    body = {"starts_at": "2026-06-01T14:00:00", "ends_at": "2026-06-01T18:00:00"}
    assert refusal(await client.patch(f"{SHIFTS}/{shift_id}", json=body, headers=supervisor)) == (422, "naive_datetime")


async def test_moving_onto_another_shift_of_the_person_is_refused(client: Client, tenant: TenantKit) -> None:
    shift_id, workplace_id, supervisor = await planned(client, tenant)
    afternoon = one_off(tenant, workplace_id, "2026-06-01T14:00:00+02:00", "2026-06-01T18:00:00+02:00")
    other = await client.post(SHIFTS, json=afternoon, headers=supervisor)
    body = {"starts_at": "2026-06-01T12:00:00+02:00", "ends_at": "2026-06-01T15:00:00+02:00"}
    response = await client.patch(f"{SHIFTS}/{shift_id}", json=body, headers=supervisor)
    assert refusal(response) == (409, "shift_overlap")
    assert response.json()["error"]["details"]["shift_id"] == other.json()["id"]


async def test_a_shift_may_be_moved_over_its_own_old_times(client: Client, tenant: TenantKit) -> None:
    shift_id, _, supervisor = await planned(client, tenant)
    body = {"starts_at": "2026-06-01T10:00:00+02:00", "ends_at": "2026-06-01T14:00:00+02:00"}
    assert (await client.patch(f"{SHIFTS}/{shift_id}", json=body, headers=supervisor)).status_code == 200


async def test_giving_the_shift_to_someone_else_tells_both(client: Client, tenant: TenantKit, runtime: Runtime) -> None:
    shift_id, workplace_id, supervisor = await planned(client, tenant)
    other = await tenant.add_user("Second staff", roles=["staff"])
    await assign(client, await tenant.headers(client), workplace_id, other)
    response = await client.patch(f"{SHIFTS}/{shift_id}", json={"user_id": str(other)}, headers=supervisor)
    assert response.status_code == 200, response.text
    assert response.json()["user_id"] == str(other)
    assert await shift_notices(runtime, tenant, tenant.users["staff"]) == ["planned", "given_away"]
    assert await shift_notices(runtime, tenant, other) == ["planned"]


async def test_giving_the_shift_to_someone_not_assigned_is_refused(client: Client, tenant: TenantKit) -> None:
    shift_id, _, supervisor = await planned(client, tenant)
    other = await tenant.add_user("Elsewhere", roles=["staff"])
    response = await client.patch(f"{SHIFTS}/{shift_id}", json={"user_id": str(other)}, headers=supervisor)
    assert refusal(response) == (422, "user_not_assigned")


async def test_a_weekly_shift_moved_to_another_workplace_keeps_its_local_time_there(
    client: Client, tenant: TenantKit
) -> None:
    workplace_id, supervisor = await staffed(client, tenant)
    created = await client.post(SHIFTS, json=weekly(tenant, workplace_id, weekdays=["mon"]), headers=supervisor)
    admin = await tenant.headers(client)
    new_york = await make_workplace(client, admin, timezone="America/New_York")
    await assign(client, admin, new_york["id"], tenant.users["staff"])
    response = await client.patch(
        f"{SHIFTS}/{created.json()['id']}", json={"workplace_id": new_york["id"]}, headers=supervisor
    )
    assert response.status_code == 200, response.text
    # Monday 9 March 2026: New York is on summer time (UTC-4) since the 8th, Paris not yet (UTC+1).
    occurrences = await client.get(
        f"{SHIFTS}/occurrences",
        params={"from": "2026-03-09T00:00:00Z", "to": "2026-03-10T00:00:00Z"},
        headers=supervisor,
    )
    assert [o["starts_local"] for o in occurrences.json()] == ["2026-03-09T09:00:00-04:00"]
    assert [o["starts_at"] for o in occurrences.json()] == ["2026-03-09T13:00:00Z"]


async def test_a_cancelled_shift_has_no_occurrences_and_its_person_is_told(
    client: Client, tenant: TenantKit, runtime: Runtime
) -> None:
    shift_id, _, supervisor = await planned(client, tenant)
    response = await client.post(f"{SHIFTS}/{shift_id}/cancel", json={"reason": "Store closed"}, headers=supervisor)
    assert response.status_code == 200, response.text
    assert response.json()["cancel_reason"] == "Store closed"
    occurrences = await client.get(
        f"{SHIFTS}/occurrences",
        params={"from": "2026-06-01T00:00:00Z", "to": "2026-06-02T00:00:00Z"},
        headers=supervisor,
    )
    assert occurrences.json() == []
    assert await shift_notices(runtime, tenant, tenant.users["staff"]) == ["planned", "cancelled"]


async def test_the_list_separates_cancelled_shifts_from_live_ones(client: Client, tenant: TenantKit) -> None:
    shift_id, workplace_id, supervisor = await planned(client, tenant)
    evening = one_off(tenant, workplace_id, "2026-06-01T18:00:00+02:00", "2026-06-01T20:00:00+02:00")
    live = (await client.post(SHIFTS, json=evening, headers=supervisor)).json()["id"]
    await client.post(f"{SHIFTS}/{shift_id}/cancel", json={"reason": "Store closed"}, headers=supervisor)
    for cancelled, expected in (("true", [shift_id]), ("false", [live])):
        listed = await client.get(
            SHIFTS, params={"workplace_id": workplace_id, "cancelled": cancelled}, headers=supervisor
        )
        assert [item["id"] for item in listed.json()["items"]] == expected


async def test_a_cancelled_shift_no_longer_blocks_its_times(client: Client, tenant: TenantKit) -> None:
    shift_id, workplace_id, supervisor = await planned(client, tenant)
    await client.post(f"{SHIFTS}/{shift_id}/cancel", json={"reason": "Store closed"}, headers=supervisor)
    again = await client.post(SHIFTS, json=one_off(tenant, workplace_id, *MORNING), headers=supervisor)
    assert again.status_code == 201, again.text


async def test_a_cancelled_shift_cannot_be_cancelled_or_changed(client: Client, tenant: TenantKit) -> None:
    shift_id, _, supervisor = await planned(client, tenant)
    await client.post(f"{SHIFTS}/{shift_id}/cancel", json={"reason": "Store closed"}, headers=supervisor)
    again = await client.post(f"{SHIFTS}/{shift_id}/cancel", json={"reason": "Twice"}, headers=supervisor)
    assert refusal(again) == (409, "shift_cancelled")
    changed = await client.patch(f"{SHIFTS}/{shift_id}", json={"note": "back on"}, headers=supervisor)
    assert refusal(changed) == (409, "shift_cancelled")


async def test_another_tenants_shift_is_not_found(client: Client, tenant: TenantKit, runtime: Runtime) -> None:
    shift_id, _, _ = await planned(client, tenant)
    other = await TenantKit.create(runtime)
    headers = await other.headers(client, "supervisor")
    assert refusal(await client.patch(f"{SHIFTS}/{shift_id}", json={"note": "x"}, headers=headers)) == (
        404,
        "not_found",
    )
    cancel = await client.post(f"{SHIFTS}/{shift_id}/cancel", json={"reason": "not mine"}, headers=headers)
    assert refusal(cancel) == (404, "not_found")


async def test_nobody_is_late_for_a_cancelled_shift(client: Client, tenant: TenantKit, runtime: Runtime) -> None:
    workplace_id = await shift_at(client, tenant)
    supervisor = await tenant.headers(client, "supervisor")
    [shift] = (await client.get(SHIFTS, params={"workplace_id": workplace_id}, headers=supervisor)).json()["items"]
    cancelled = await client.post(f"{SHIFTS}/{shift['id']}/cancel", json={"reason": "Closed"}, headers=supervisor)
    assert cancelled.status_code == 200, cancelled.text
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        assert await late_now(session, STARTS + timedelta(hours=1)) == []
