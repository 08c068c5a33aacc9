"""Attendance: the geofence and its edge (refused or flagged per policy), assignments, double and missing
clock-ins, offline device times, breaks, supervisors' corrections, one's own list, and a workplace's day cut
in its time zone across DST changes."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any
from uuid import UUID

from sqlalchemy import func, select

from api.runtime import Runtime
from persistence.models import AttendanceRecord, AuditEvent, Notification
from tests.api.fieldops.fieldkit import PARIS, Client, assign, make_workplace, north_of, stay
from tests.api.identity.arrange import Headers, refusal
from tests.kit import TenantKit


async def staffed_workplace(client: Client, tenant: TenantKit, **fields: Any) -> tuple[str, Headers]:
    """A Paris workplace (100 m geofence) with the tenant's staff member assigned; their headers."""
    admin = await tenant.headers(client)
    workplace = await make_workplace(client, admin, **fields)
    await assign(client, admin, workplace["id"], tenant.users["staff"])
    return workplace["id"], await tenant.headers(client, "staff")


def at(point: tuple[float, float], **extra: Any) -> dict[str, Any]:
    return {"latitude": point[0], "longitude": point[1], "accuracy_m": 8.0} | extra


async def clock_in(
    client: Client, headers: Headers, workplace_id: str, point: tuple[float, float], **extra: Any
) -> Any:
    return await client.post(
        "/api/v1/attendance/clock-in", json=at(point, workplace_id=workplace_id, **extra), headers=headers
    )


async def clock_out(client: Client, headers: Headers, point: tuple[float, float], **extra: Any) -> Any:
    return await client.post("/api/v1/attendance/clock-out", json=at(point, **extra), headers=headers)


async def attendance_count(runtime: Runtime, tenant: TenantKit) -> int:
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        return await session.scalar(select(func.count()).select_from(AttendanceRecord)) or 0


async def test_clock_in_inside_the_geofence(client: Client, tenant: TenantKit) -> None:
    workplace_id, staff = await staffed_workplace(client, tenant)
    response = await clock_in(client, staff, workplace_id, north_of(PARIS, 40))
    assert response.status_code == 201, response.text
    assert abs(response.json()["clock_in_distance_m"] - 40) < 1
    assert response.json()["clock_in_offline"] is False


async def test_the_geofence_edge_is_inside(client: Client, tenant: TenantKit) -> None:
    workplace_id, staff = await staffed_workplace(client, tenant)
    response = await clock_in(client, staff, workplace_id, north_of(PARIS, 99.5))
    assert response.status_code == 201, response.text


async def test_just_beyond_the_geofence_is_refused_with_the_distance(
    client: Client, tenant: TenantKit, runtime: Runtime
) -> None:
    workplace_id, staff = await staffed_workplace(client, tenant)
    response = await clock_in(client, staff, workplace_id, north_of(PARIS, 101))
    assert refusal(response) == (422, "outside_geofence")
    assert abs(response.json()["error"]["details"]["distance_m"] - 101) < 1
    assert await attendance_count(runtime, tenant) == 0


async def test_clock_in_where_one_is_not_assigned_is_forbidden(
    client: Client, tenant: TenantKit, runtime: Runtime
) -> None:
    workplace = await make_workplace(client, await tenant.headers(client))
    response = await clock_in(client, await tenant.headers(client, "staff"), workplace["id"], PARIS)
    assert refusal(response) == (403, "not_assigned")
    assert await attendance_count(runtime, tenant) == 0


async def test_an_ended_assignment_no_longer_allows_clock_in(client: Client, tenant: TenantKit) -> None:
    admin = await tenant.headers(client)
    workplace = await make_workplace(client, admin)
    assignment = await assign(client, admin, workplace["id"], tenant.users["staff"])
    await client.delete(f"/api/v1/workplaces/{workplace['id']}/assignments/{assignment}", headers=admin)
    response = await clock_in(client, await tenant.headers(client, "staff"), workplace["id"], PARIS)
    assert refusal(response) == (403, "not_assigned")


async def test_clock_in_at_a_closed_workplace_is_refused(client: Client, tenant: TenantKit) -> None:
    workplace_id, staff = await staffed_workplace(client, tenant)
    admin = await tenant.headers(client)
    await client.patch(f"/api/v1/workplaces/{workplace_id}", json={"status": "closed"}, headers=admin)
    assert refusal(await clock_in(client, staff, workplace_id, PARIS)) == (409, "workplace_inactive")


async def test_another_tenants_workplace_is_not_found(
    client: Client, tenant: TenantKit, other_tenant: TenantKit
) -> None:
    theirs = await make_workplace(client, await other_tenant.headers(client))
    response = await clock_in(client, await tenant.headers(client, "staff"), theirs["id"], PARIS)
    assert refusal(response) == (404, "not_found")


async def test_clocking_in_twice_is_refused(client: Client, tenant: TenantKit, runtime: Runtime) -> None:
    workplace_id, staff = await staffed_workplace(client, tenant)
    await clock_in(client, staff, workplace_id, PARIS)
    again = await clock_in(client, staff, workplace_id, PARIS)
    assert refusal(again) == (409, "already_clocked_in")
    assert await attendance_count(runtime, tenant) == 1


async def test_two_clock_ins_at_once_open_one_attendance(client: Client, tenant: TenantKit, runtime: Runtime) -> None:
    workplace_id, staff = await staffed_workplace(client, tenant)
    responses = await asyncio.gather(*(clock_in(client, staff, workplace_id, PARIS) for _ in range(4)))
    assert sorted(r.status_code for r in responses) == [201, 409, 409, 409]
    assert await attendance_count(runtime, tenant) == 1


async def test_clock_out_without_clock_in_is_refused(client: Client, tenant: TenantKit) -> None:
    _, staff = await staffed_workplace(client, tenant)
    assert refusal(await clock_out(client, staff, PARIS)) == (409, "not_clocked_in")


async def test_clock_out_closes_the_attendance(client: Client, tenant: TenantKit) -> None:
    workplace_id, staff = await staffed_workplace(client, tenant)
    started = datetime.now(UTC) - timedelta(hours=2)
    await clock_in(client, staff, workplace_id, PARIS, occurred_at=started.isoformat())
    response = await clock_out(client, staff, north_of(PARIS, 20))
    assert response.status_code == 200, response.text
    assert abs(response.json()["worked_seconds"] - 7200) < 60


async def test_clock_out_outside_the_geofence_is_refused(client: Client, tenant: TenantKit) -> None:
    workplace_id, staff = await staffed_workplace(client, tenant)
    await clock_in(client, staff, workplace_id, PARIS)
    assert refusal(await clock_out(client, staff, north_of(PARIS, 500))) == (422, "outside_geofence")


async def test_an_offline_clock_in_keeps_the_device_time(client: Client, tenant: TenantKit) -> None:
    workplace_id, staff = await staffed_workplace(client, tenant)
    device_time = (datetime.now(UTC) - timedelta(hours=5)).replace(microsecond=0)
    # The device reports its own local time, with its offset.
    sent = device_time.astimezone(timezone(timedelta(hours=-5))).isoformat()
    response = await clock_in(client, staff, workplace_id, PARIS, occurred_at=sent)
    assert response.status_code == 201, response.text
    assert datetime.fromisoformat(response.json()["clock_in_at"]) == device_time
    assert response.json()["clock_in_offline"] is True


async def test_a_naive_device_time_is_refused(client: Client, tenant: TenantKit, runtime: Runtime) -> None:
    workplace_id, staff = await staffed_workplace(client, tenant)
    response = await clock_in(client, staff, workplace_id, PARIS, occurred_at="2026-03-29T09:00:00")
    assert refusal(response) == (422, "naive_datetime")
    assert await attendance_count(runtime, tenant) == 0


async def test_a_device_time_in_the_future_is_refused(client: Client, tenant: TenantKit) -> None:
    workplace_id, staff = await staffed_workplace(client, tenant)
    ahead = (datetime.now(UTC) + timedelta(minutes=10)).isoformat()
    assert refusal(await clock_in(client, staff, workplace_id, PARIS, occurred_at=ahead)) == (422, "in_future")


async def test_a_device_time_beyond_the_offline_window_is_refused(client: Client, tenant: TenantKit) -> None:
    workplace_id, staff = await staffed_workplace(client, tenant)
    old = (datetime.now(UTC) - timedelta(hours=73)).isoformat()
    assert refusal(await clock_in(client, staff, workplace_id, PARIS, occurred_at=old)) == (422, "too_old")


async def test_an_offline_clock_out_before_its_clock_in_is_out_of_order(client: Client, tenant: TenantKit) -> None:
    workplace_id, staff = await staffed_workplace(client, tenant)
    now = datetime.now(UTC)
    await clock_in(client, staff, workplace_id, PARIS, occurred_at=(now - timedelta(hours=1)).isoformat())
    early = (now - timedelta(hours=2)).isoformat()
    assert refusal(await clock_out(client, staff, PARIS, occurred_at=early)) == (409, "out_of_order")


async def test_an_offline_clock_in_before_the_last_clock_out_is_out_of_order(client: Client, tenant: TenantKit) -> None:
    workplace_id, staff = await staffed_workplace(client, tenant)
    now = datetime.now(UTC)
    await clock_in(client, staff, workplace_id, PARIS, occurred_at=(now - timedelta(hours=3)).isoformat())
    await clock_out(client, staff, PARIS, occurred_at=(now - timedelta(hours=1)).isoformat())
    overlapping = (now - timedelta(hours=2)).isoformat()
    response = await clock_in(client, staff, workplace_id, PARIS, occurred_at=overlapping)
    assert refusal(response) == (409, "out_of_order")


async def test_offline_stays_sent_in_order_are_all_accepted(client: Client, tenant: TenantKit) -> None:
    workplace_id, staff = await staffed_workplace(client, tenant)
    now = datetime.now(UTC)
    for start, end in ((30, 28), (26, 24), (5, 4)):
        began = await clock_in(
            client, staff, workplace_id, PARIS, occurred_at=(now - timedelta(hours=start)).isoformat()
        )
        assert began.status_code == 201, began.text
        ended = await clock_out(client, staff, PARIS, occurred_at=(now - timedelta(hours=end)).isoformat())
        assert ended.status_code == 200, ended.text
    mine = await client.get("/api/v1/attendance/mine", headers=staff)
    assert [r["worked_seconds"] for r in mine.json()["items"]] == [3600, 7200, 7200]
    assert mine.json()["total"] == 3


async def test_my_attendance_lists_only_mine(client: Client, tenant: TenantKit) -> None:
    workplace_id, staff = await staffed_workplace(client, tenant)
    await assign(client, await tenant.headers(client), workplace_id, tenant.users["supervisor"], "supervisor")
    await clock_in(client, staff, workplace_id, PARIS)
    supervisor = await tenant.headers(client, "supervisor")
    await clock_in(client, supervisor, workplace_id, PARIS)
    mine = await client.get("/api/v1/attendance/mine", headers=staff)
    assert [r["user_id"] for r in mine.json()["items"]] == [str(tenant.users["staff"])]


async def arrange_stay(runtime: Runtime, tenant: TenantKit, workplace_id: str, start: datetime, end: datetime) -> None:
    """An attendance written straight to the database (the offline window forbids dates long past)."""
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        session.add(
            AttendanceRecord(
                tenant_id=tenant.id,
                user_id=tenant.users["staff"],
                workplace_id=UUID(workplace_id),
                clock_in_at=start,
                clock_in_received_at=start,
                clock_in_latitude=PARIS[0],
                clock_in_longitude=PARIS[1],
                clock_in_distance_m=0.0,
                clock_out_at=end,
                clock_out_received_at=end,
            )
        )


async def test_a_day_when_clocks_go_forward_lasts_23_hours(client: Client, tenant: TenantKit, runtime: Runtime) -> None:
    workplace_id, _ = await staffed_workplace(client, tenant)
    # Paris moves from +01:00 to +02:00 at 02:00 local on 29 March 2026.
    before = datetime(2026, 3, 28, 22, 30, tzinfo=UTC)  # 23:30 local on the 28th
    first = datetime(2026, 3, 28, 23, 30, tzinfo=UTC)  # 00:30 local on the 29th
    last = datetime(2026, 3, 29, 21, 30, tzinfo=UTC)  # 23:30 local (+02:00) on the 29th
    after = datetime(2026, 3, 29, 22, 30, tzinfo=UTC)  # 00:30 local on the 30th
    for start in (before, first, last, after):
        await arrange_stay(runtime, tenant, workplace_id, start, start + timedelta(minutes=20))
    supervisor = await tenant.headers(client, "supervisor")
    response = await client.get(f"/api/v1/attendance/workplaces/{workplace_id}/days/2026-03-29", headers=supervisor)
    assert response.status_code == 200, response.text
    day = response.json()
    assert day["hours"] == 23
    assert [e["clock_in_local"] for e in day["entries"]] == ["2026-03-29T00:30:00+01:00", "2026-03-29T23:30:00+02:00"]


async def test_a_day_when_clocks_go_back_lasts_25_hours(client: Client, tenant: TenantKit, runtime: Runtime) -> None:
    workplace_id, _ = await staffed_workplace(client, tenant)
    # Paris moves from +02:00 back to +01:00 at 03:00 local on 25 October 2026.
    last = datetime(2026, 10, 25, 22, 30, tzinfo=UTC)  # 23:30 local (+01:00) on the 25th
    await arrange_stay(runtime, tenant, workplace_id, last, last + timedelta(minutes=20))
    supervisor = await tenant.headers(client, "supervisor")
    response = await client.get(f"/api/v1/attendance/workplaces/{workplace_id}/days/2026-10-25", headers=supervisor)
    day = response.json()
    assert day["hours"] == 25
    assert [e["clock_in_local"] for e in day["entries"]] == ["2026-10-25T23:30:00+01:00"]


async def test_staff_cannot_read_a_workplaces_day(client: Client, tenant: TenantKit) -> None:
    workplace_id, staff = await staffed_workplace(client, tenant)
    response = await client.get(f"/api/v1/attendance/workplaces/{workplace_id}/days/{date.today()}", headers=staff)
    assert refusal(response) == (403, "forbidden")


async def test_a_workplace_with_attendance_cannot_be_deleted(client: Client, tenant: TenantKit) -> None:
    workplace_id, staff = await staffed_workplace(client, tenant)
    await clock_in(client, staff, workplace_id, PARIS)
    response = await client.delete(f"/api/v1/workplaces/{workplace_id}", headers=await tenant.headers(client))
    assert refusal(response) == (409, "workplace_in_use")


async def test_outside_the_geofence_is_accepted_and_flagged_under_a_flag_policy(
    client: Client, tenant: TenantKit
) -> None:
    workplace_id, staff = await staffed_workplace(client, tenant)
    policy = await client.put(
        "/api/v1/attendance/policy", json={"geofence": "flag"}, headers=await tenant.headers(client)
    )
    assert policy.json()["geofence"] == "flag"
    response = await clock_in(client, staff, workplace_id, north_of(PARIS, 500))
    assert response.status_code == 201, response.text
    assert response.json()["clock_in_flagged"] is True
    inside = await clock_out(client, staff, PARIS)
    assert inside.json()["clock_out_flagged"] is False


async def test_the_attendance_policy_is_set_by_admins_only(client: Client, tenant: TenantKit) -> None:
    supervisor = await tenant.headers(client, "supervisor")
    refused = await client.put("/api/v1/attendance/policy", json={"geofence": "flag"}, headers=supervisor)
    assert refusal(refused) == (403, "forbidden")
    current = await client.get("/api/v1/attendance/policy", headers=supervisor)
    assert current.json() == {
        "geofence": "refuse",
        "late_after_minutes": 10,
        "escalate_after_minutes": 20,
        "rest_days": ["sat", "sun"],
    }


async def test_a_bad_policy_value_is_refused(client: Client, tenant: TenantKit) -> None:
    admin = await tenant.headers(client)
    response = await client.put("/api/v1/attendance/policy", json={"geofence": "maybe"}, headers=admin)
    assert refusal(response) == (400, "invalid_request")


async def test_a_break_starts_and_ends(client: Client, tenant: TenantKit) -> None:
    workplace_id, staff = await staffed_workplace(client, tenant)
    await clock_in(client, staff, workplace_id, PARIS, occurred_at=(datetime.now(UTC) - timedelta(hours=1)).isoformat())
    started = await client.post("/api/v1/attendance/breaks/start", json={}, headers=staff)
    assert started.status_code == 201, started.text
    ended = await client.post("/api/v1/attendance/breaks/end", json={}, headers=staff)
    assert ended.status_code == 200, ended.text
    assert ended.json()["id"] == started.json()["id"]
    assert ended.json()["ended_at"] is not None


async def test_a_break_needs_a_clock_in(client: Client, tenant: TenantKit) -> None:
    _, staff = await staffed_workplace(client, tenant)
    assert refusal(await client.post("/api/v1/attendance/breaks/start", json={}, headers=staff)) == (
        409,
        "not_clocked_in",
    )


async def test_two_breaks_at_once_and_ending_none_are_refused(client: Client, tenant: TenantKit) -> None:
    workplace_id, staff = await staffed_workplace(client, tenant)
    await clock_in(client, staff, workplace_id, PARIS)
    assert refusal(await client.post("/api/v1/attendance/breaks/end", json={}, headers=staff)) == (409, "not_on_break")
    await client.post("/api/v1/attendance/breaks/start", json={}, headers=staff)
    again = await client.post("/api/v1/attendance/breaks/start", json={}, headers=staff)
    assert refusal(again) == (409, "already_on_break")


async def test_a_break_before_the_clock_in_is_out_of_order(client: Client, tenant: TenantKit) -> None:
    workplace_id, staff = await staffed_workplace(client, tenant)
    now = datetime.now(UTC)
    await clock_in(client, staff, workplace_id, PARIS, occurred_at=(now - timedelta(hours=1)).isoformat())
    early = {"occurred_at": (now - timedelta(hours=2)).isoformat()}
    assert refusal(await client.post("/api/v1/attendance/breaks/start", json=early, headers=staff)) == (
        409,
        "out_of_order",
    )


async def test_clocking_out_ends_the_open_break(client: Client, tenant: TenantKit) -> None:
    workplace_id, staff = await staffed_workplace(client, tenant)
    await clock_in(client, staff, workplace_id, PARIS, occurred_at=(datetime.now(UTC) - timedelta(hours=1)).isoformat())
    await client.post("/api/v1/attendance/breaks/start", json={}, headers=staff)
    assert (await clock_out(client, staff, PARIS)).status_code == 200
    await clock_in(client, staff, workplace_id, PARIS)
    started = await client.post("/api/v1/attendance/breaks/start", json={}, headers=staff)
    assert started.status_code == 201, started.text


async def correct(client: Client, headers: Headers, attendance_id: Any, **body: Any) -> Any:
    return await client.post(f"/api/v1/attendance/{attendance_id}/corrections", json=body, headers=headers)


async def test_a_supervisor_corrects_an_entry_with_a_reason_audited_before_and_after(
    client: Client, tenant: TenantKit, runtime: Runtime
) -> None:
    workplace_id, _ = await staffed_workplace(client, tenant)
    start = datetime(2026, 1, 14, 8, tzinfo=UTC)
    entry = await stay(tenant, tenant.users["staff"], workplace_id, start, start + timedelta(hours=8))
    supervisor = await tenant.headers(client, "supervisor")
    response = await correct(
        client, supervisor, entry, clock_out_at="2026-01-14T18:00:00+01:00", reason="Forgot to clock out"
    )
    assert response.status_code == 200, response.text
    assert response.json()["clock_out_at"] == "2026-01-14T17:00:00Z"
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        audit = await session.scalar(select(AuditEvent).where(AuditEvent.action == "attendance.correct"))
        told = await session.scalar(select(Notification).where(Notification.user_id == tenant.users["staff"]))
    assert audit is not None
    assert audit.actor_user_id == tenant.users["supervisor"]
    assert audit.details["reason"] == "Forgot to clock out"
    assert audit.details["before"]["clock_out_at"] == "2026-01-14T16:00:00+00:00"
    assert audit.details["after"]["clock_out_at"] == "2026-01-14T17:00:00+00:00"
    assert told is not None
    assert "Forgot to clock out" in told.body


async def test_a_correction_without_a_reason_changes_nothing(client: Client, tenant: TenantKit) -> None:
    workplace_id, staff = await staffed_workplace(client, tenant)
    start = datetime(2026, 1, 14, 8, tzinfo=UTC)
    entry = await stay(tenant, tenant.users["staff"], workplace_id, start, start + timedelta(hours=8))
    supervisor = await tenant.headers(client, "supervisor")
    response = await client.post(
        f"/api/v1/attendance/{entry}/corrections", json={"clock_in_at": "2026-01-14T07:00:00Z"}, headers=supervisor
    )
    assert refusal(response) == (400, "invalid_request")
    mine = await client.get("/api/v1/attendance/mine", headers=staff)
    assert mine.json()["items"][0]["clock_in_at"] == "2026-01-14T08:00:00Z"


async def test_bad_corrections_are_refused(client: Client, tenant: TenantKit) -> None:
    workplace_id, _ = await staffed_workplace(client, tenant)
    start = datetime(2026, 1, 14, 8, tzinfo=UTC)
    entry = await stay(tenant, tenant.users["staff"], workplace_id, start, start + timedelta(hours=8))
    await stay(tenant, tenant.users["staff"], workplace_id, start + timedelta(hours=10), start + timedelta(hours=12))
    supervisor = await tenant.headers(client, "supervisor")
    reason = "Badge reader broken"
    assert refusal(await correct(client, supervisor, entry, reason=reason)) == (422, "nothing_to_correct")
    naive = await correct(client, supervisor, entry, clock_in_at="2026-01-14T07:00:00", reason=reason)
    assert refusal(naive) == (422, "naive_datetime")
    backwards = await correct(client, supervisor, entry, clock_out_at="2026-01-14T07:00:00Z", reason=reason)
    assert refusal(backwards) == (422, "invalid_range")
    overlapping = await correct(client, supervisor, entry, clock_out_at="2026-01-14T19:00:00Z", reason=reason)
    assert refusal(overlapping) == (409, "overlapping_attendance")
    future = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    assert refusal(await correct(client, supervisor, entry, clock_out_at=future, reason=reason)) == (422, "in_future")


async def test_staff_cannot_correct_and_other_tenants_entries_are_not_found(
    client: Client, tenant: TenantKit, other_tenant: TenantKit
) -> None:
    workplace_id, _ = await staffed_workplace(client, other_tenant)
    start = datetime(2026, 1, 14, 8, tzinfo=UTC)
    theirs = await stay(other_tenant, other_tenant.users["staff"], workplace_id, start, start + timedelta(hours=1))
    body = {"clock_in_at": "2026-01-14T07:00:00Z", "reason": "Late badge"}
    mine = await correct(client, await tenant.headers(client, "supervisor"), theirs, **body)
    assert refusal(mine) == (404, "not_found")
    assert refusal(await correct(client, await tenant.headers(client, "staff"), theirs, **body)) == (403, "forbidden")
