"""Overtime: the tenant's daily, weekly and rest-day rules turn worked time into pending records on clock-out and
on corrections, decided minutes stay decided, and the approval hook moves a record to its final status."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest
from sqlalchemy import select

from api.attendance.schemas import TimesheetDay
from api.errors import AppError
from api.overtime.compute import recompute_overtime, week_overtime
from api.overtime.decisions import apply_decision
from api.runtime import Runtime
from persistence.models import Notification, OvertimeRecord, WorkPolicy
from tests.api.fieldops.fieldkit import PARIS, Client, assign, make_workplace, stay
from tests.api.identity.arrange import Headers, refusal
from tests.kit import TenantKit

RULES = "/api/v1/overtime/rules"
# Monday 12 January 2026; the staff member's time zone is UTC.
MONDAY = datetime(2026, 1, 12, 8, tzinfo=UTC)


async def with_rules(client: Client, tenant: TenantKit, **rules: Any) -> str:
    """Set the tenant's overtime rules; a workplace with the staff member assigned, its id."""
    admin = await tenant.headers(client)
    response = await client.put(RULES, json=rules, headers=admin)
    assert response.status_code == 200, response.text
    workplace = await make_workplace(client, admin)
    await assign(client, admin, workplace["id"], tenant.users["staff"])
    workplace_id: str = workplace["id"]
    return workplace_id


async def records(runtime: Runtime, tenant: TenantKit) -> list[tuple[str, str, int, str]]:
    """``(kind, period_start, minutes, status)`` of the tenant's overtime, oldest first."""
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        rows = await session.scalars(select(OvertimeRecord).order_by(OvertimeRecord.created_at, OvertimeRecord.id))
        return [(r.kind, r.period_start.isoformat(), r.minutes, r.status) for r in rows]


async def recompute(runtime: Runtime, tenant: TenantKit, start: datetime, end: datetime) -> None:
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        await recompute_overtime(session, tenant_id=tenant.id, user_id=tenant.users["staff"], spans=[(start, end)])


async def correct(client: Client, tenant: TenantKit, attendance_id: UUID, clock_out_at: datetime) -> None:
    response = await client.post(
        f"/api/v1/attendance/{attendance_id}/corrections",
        json={"clock_out_at": clock_out_at.isoformat(), "reason": "Stayed for the delivery"},
        headers=await tenant.headers(client, "supervisor"),
    )
    assert response.status_code == 200, response.text


async def decide(runtime: Runtime, tenant: TenantKit, record_id: Any, outcome: Any) -> None:
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        await apply_decision(session, request_id=record_id, outcome=outcome, decided_by=tenant.users["supervisor"])


async def pending_id(runtime: Runtime, tenant: TenantKit) -> UUID:
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        found = await session.scalar(select(OvertimeRecord.id).where(OvertimeRecord.status == "pending"))
    assert found is not None
    return found


async def clock(client: Client, staff: Headers, workplace_id: str, start: datetime, end: datetime) -> None:
    position = {"latitude": PARIS[0], "longitude": PARIS[1]}
    body = position | {"workplace_id": workplace_id, "occurred_at": start.isoformat()}
    assert (await client.post("/api/v1/attendance/clock-in", json=body, headers=staff)).status_code == 201
    body = position | {"occurred_at": end.isoformat()}
    assert (await client.post("/api/v1/attendance/clock-out", json=body, headers=staff)).status_code == 200


async def test_without_rules_no_overtime_is_recorded(client: Client, tenant: TenantKit, runtime: Runtime) -> None:
    workplace = await make_workplace(client, await tenant.headers(client))
    await assign(client, await tenant.headers(client), workplace["id"], tenant.users["staff"])
    now = datetime.now(UTC)
    await clock(client, await tenant.headers(client, "staff"), workplace["id"], now - timedelta(hours=14), now)
    assert await records(runtime, tenant) == []


async def test_clocking_out_records_the_days_overtime(client: Client, tenant: TenantKit, runtime: Runtime) -> None:
    workplace_id = await with_rules(client, tenant, daily_threshold_minutes=0)
    now = datetime.now(UTC)
    await clock(client, await tenant.headers(client, "staff"), workplace_id, now - timedelta(hours=3), now)
    found = await records(runtime, tenant)
    # A stay across midnight is split between its two days; together they are its three hours.
    assert sum(minutes for _, _, minutes, _ in found) == 180
    assert {(kind, status) for kind, _, _, status in found} == {("daily", "pending")}


async def test_a_correction_updates_then_cancels_the_pending_overtime(
    client: Client, tenant: TenantKit, runtime: Runtime
) -> None:
    workplace_id = await with_rules(client, tenant, daily_threshold_minutes=480)
    entry = await stay(tenant, tenant.users["staff"], workplace_id, MONDAY, MONDAY + timedelta(hours=9))
    await correct(client, tenant, entry, MONDAY + timedelta(hours=10))
    assert await records(runtime, tenant) == [("daily", "2026-01-12", 120, "pending")]
    await correct(client, tenant, entry, MONDAY + timedelta(hours=8, minutes=30))
    assert await records(runtime, tenant) == [("daily", "2026-01-12", 30, "pending")]
    await correct(client, tenant, entry, MONDAY + timedelta(hours=7))
    assert await records(runtime, tenant) == [("daily", "2026-01-12", 30, "cancelled")]


async def test_the_weekly_threshold_counts_what_is_not_daily_overtime(
    client: Client, tenant: TenantKit, runtime: Runtime
) -> None:
    workplace_id = await with_rules(client, tenant, daily_threshold_minutes=600, weekly_threshold_minutes=2400)
    for day in range(5):
        start = MONDAY + timedelta(days=day)
        await stay(tenant, tenant.users["staff"], workplace_id, start, start + timedelta(hours=9))
    await recompute(runtime, tenant, MONDAY, MONDAY + timedelta(days=5))
    # Five days of nine hours: no day over ten, 45 hours in the week, five over forty.
    assert await records(runtime, tenant) == [("weekly", "2026-01-12", 300, "pending")]


async def test_work_on_a_rest_day_is_overtime_when_the_tenant_says_so(
    client: Client, tenant: TenantKit, runtime: Runtime
) -> None:
    workplace_id = await with_rules(
        client, tenant, weekly_threshold_minutes=60, rest_days=["sun"], rest_day_overtime=True
    )
    sunday = MONDAY + timedelta(days=6)
    await stay(tenant, tenant.users["staff"], workplace_id, sunday, sunday + timedelta(hours=3))
    await recompute(runtime, tenant, sunday, sunday + timedelta(hours=3))
    # The Sunday's three hours are rest-day overtime and do not count towards the weekly threshold.
    assert await records(runtime, tenant) == [("rest_day", "2026-01-18", 180, "pending")]


async def test_approved_minutes_stay_and_more_work_raises_a_new_claim(
    client: Client, tenant: TenantKit, runtime: Runtime
) -> None:
    workplace_id = await with_rules(client, tenant, daily_threshold_minutes=480)
    entry = await stay(tenant, tenant.users["staff"], workplace_id, MONDAY, MONDAY + timedelta(hours=8))
    await correct(client, tenant, entry, MONDAY + timedelta(hours=9))
    await decide(runtime, tenant, await pending_id(runtime, tenant), "approved")
    await correct(client, tenant, entry, MONDAY + timedelta(hours=10))
    assert await records(runtime, tenant) == [
        ("daily", "2026-01-12", 60, "approved"),
        ("daily", "2026-01-12", 60, "pending"),
    ]


async def test_a_decision_tells_the_person_and_repeating_it_changes_nothing(
    client: Client, tenant: TenantKit, runtime: Runtime
) -> None:
    workplace_id = await with_rules(client, tenant, daily_threshold_minutes=480)
    entry = await stay(tenant, tenant.users["staff"], workplace_id, MONDAY, MONDAY + timedelta(hours=8))
    await correct(client, tenant, entry, MONDAY + timedelta(hours=9))
    record_id = await pending_id(runtime, tenant)
    await decide(runtime, tenant, record_id, "rejected")
    await decide(runtime, tenant, record_id, "rejected")
    assert await records(runtime, tenant) == [("daily", "2026-01-12", 60, "rejected")]
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        told = await session.scalars(select(Notification).where(Notification.category == "approval"))
        assert [n.user_id for n in told] == [tenant.users["staff"]]
    with pytest.raises(AppError) as refused:
        await decide(runtime, tenant, record_id, "approved")
    assert refused.value.code == "not_pending"


async def test_an_expired_approval_cancels_the_overtime(client: Client, tenant: TenantKit, runtime: Runtime) -> None:
    workplace_id = await with_rules(client, tenant, daily_threshold_minutes=480)
    entry = await stay(tenant, tenant.users["staff"], workplace_id, MONDAY, MONDAY + timedelta(hours=8))
    await correct(client, tenant, entry, MONDAY + timedelta(hours=9))
    await decide(runtime, tenant, await pending_id(runtime, tenant), "expired")
    assert await records(runtime, tenant) == [("daily", "2026-01-12", 60, "cancelled")]


async def test_another_tenants_overtime_cannot_be_decided(
    client: Client, tenant: TenantKit, other_tenant: TenantKit, runtime: Runtime
) -> None:
    workplace_id = await with_rules(client, other_tenant, daily_threshold_minutes=480)
    entry = await stay(other_tenant, other_tenant.users["staff"], workplace_id, MONDAY, MONDAY + timedelta(hours=8))
    await correct(client, other_tenant, entry, MONDAY + timedelta(hours=9))
    theirs = await pending_id(runtime, other_tenant)
    with pytest.raises(AppError) as refused:
        await decide(runtime, tenant, theirs, "approved")
    assert refused.value.code == "not_found"


async def test_the_person_withdraws_their_pending_overtime_only(
    client: Client, tenant: TenantKit, runtime: Runtime
) -> None:
    workplace_id = await with_rules(client, tenant, daily_threshold_minutes=480)
    entry = await stay(tenant, tenant.users["staff"], workplace_id, MONDAY, MONDAY + timedelta(hours=8))
    await correct(client, tenant, entry, MONDAY + timedelta(hours=9))
    record_id = await pending_id(runtime, tenant)
    url = f"/api/v1/overtime/{record_id}/cancel"
    supervisor = await tenant.headers(client, "supervisor")
    assert refusal(await client.post(url, headers=supervisor)) == (404, "not_found")
    staff = await tenant.headers(client, "staff")
    assert (await client.post(url, headers=staff)).json()["status"] == "cancelled"
    assert refusal(await client.post(url, headers=staff)) == (409, "not_pending")


async def test_staff_list_their_own_overtime_and_supervisors_everyones(
    client: Client, tenant: TenantKit, runtime: Runtime
) -> None:
    workplace_id = await with_rules(client, tenant, daily_threshold_minutes=480)
    entry = await stay(tenant, tenant.users["staff"], workplace_id, MONDAY, MONDAY + timedelta(hours=8))
    await correct(client, tenant, entry, MONDAY + timedelta(hours=9))
    staff = await tenant.headers(client, "staff")
    mine = await client.get("/api/v1/overtime/mine", headers=staff)
    assert [(r["kind"], r["minutes"]) for r in mine.json()["items"]] == [("daily", 60)]
    assert refusal(await client.get("/api/v1/overtime", headers=staff)) == (403, "forbidden")
    everyone = await client.get(
        "/api/v1/overtime", params={"status": "pending"}, headers=await tenant.headers(client, "supervisor")
    )
    assert everyone.json()["total"] == 1


async def test_rules_are_set_by_admins_with_valid_values(client: Client, tenant: TenantKit) -> None:
    supervisor = await tenant.headers(client, "supervisor")
    assert refusal(await client.put(RULES, json={"daily_threshold_minutes": 480}, headers=supervisor)) == (
        403,
        "forbidden",
    )
    admin = await tenant.headers(client)
    bad = await client.put(RULES, json={"daily_threshold_minutes": -5}, headers=admin)
    assert refusal(bad) == (400, "invalid_request")
    await client.put(RULES, json={"weekly_threshold_minutes": 2400}, headers=admin)
    rules = (await client.get(RULES, headers=supervisor)).json()
    assert rules == {"rest_days": ["sat", "sun"], "rest_day_overtime": False, "weekly_threshold_minutes": 2400}


def test_a_stay_split_at_midnight_keeps_its_whole_minutes() -> None:
    monday = datetime(2026, 1, 12, tzinfo=UTC)

    def day(offset: int, net_seconds: int) -> TimesheetDay:
        starts = monday + timedelta(days=offset)
        return TimesheetDay(
            date=starts.date(),
            starts_at=starts,
            ends_at=starts + timedelta(days=1),
            hours=24.0,
            worked_seconds=net_seconds,
            break_seconds=0,
            net_seconds=net_seconds,
        )

    policy = WorkPolicy(
        overtime_daily_minutes=0, overtime_weekly_minutes=None, rest_days=[], overtime_on_rest_days=False
    )
    # 23:30:17 to 02:00:34: 29 min 43 s on Monday and 2 h 0 min 34 s on Tuesday, 2 h 30 min 17 s in all.
    found = week_overtime([day(0, 29 * 60 + 43), day(1, 2 * 3600 + 34)], policy)
    assert [(kind, minutes) for kind, _, minutes in found] == [("daily", 29), ("daily", 121)]
