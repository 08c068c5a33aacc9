"""The people reports' figures against data the test wrote: attendance (through the daily summary, cut at the
tenant's local midnight), lateness and absence, overtime, leave balances, store visits."""

from __future__ import annotations

from datetime import UTC, date, datetime
from uuid import UUID

from api.reports.summary import refresh_attendance_daily
from persistence.models import AttendanceBreak, LeaveRequest, LeaveType, OvertimeRecord, Shift
from tests.api.fieldops.fieldkit import Client, make_workplace, stay
from tests.api.reports.arrange import add, report, rows_by, set_tenant_timezone
from tests.kit import TenantKit


def at(day: int, hour: int, minute: int = 0, month: int = 3) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


async def refreshed(kit: TenantKit) -> None:
    async with kit.runtime.db.transaction(tenant_id=kit.id) as session:
        await refresh_attendance_daily(session, kit.id)


async def test_attendance_summary_counts_local_days_minutes_and_breaks(client: Client, tenant: TenantKit) -> None:
    admin = await tenant.headers(client)
    await set_tenant_timezone(tenant, "Europe/Paris")
    place = await make_workplace(client, admin)
    staff, other = tenant.users["staff"], tenant.users["supervisor"]
    first = await stay(tenant, staff, place["id"], at(2, 8), at(2, 16))
    await add(
        tenant,
        AttendanceBreak(
            tenant_id=tenant.id, attendance_id=first, user_id=staff, started_at=at(2, 12), ended_at=at(2, 12, 30)
        ),
    )
    await stay(tenant, staff, place["id"], at(2, 23, 30), at(3, 1))  # 00:30 on the 3rd in Paris
    await stay(tenant, staff, place["id"], at(28, 23, 30, month=2), at(1, 0, 30))  # the 1st of March in Paris
    await stay(tenant, staff, place["id"], at(31, 23, 30), at(1, 1, month=4))  # April in Paris: left out
    await stay(tenant, other, place["id"], at(5, 8), None)  # still clocked in: counted, no minutes yet
    await refreshed(tenant)

    body = await report(client, admin, "attendance_summary")

    assert body["timezone"] == "Europe/Paris"
    rows = rows_by(body, "user_id")
    assert {k: rows[str(staff)][k] for k in ("days_present", "stays", "worked_minutes", "break_minutes")} == {
        "days_present": 3,
        "stays": 3,
        "worked_minutes": 450 + 90 + 60,
        "break_minutes": 30,
    }
    assert rows[str(staff)]["average_minutes_per_day"] == 200.0
    assert (rows[str(other)]["stays"], rows[str(other)]["worked_minutes"]) == (1, 0)
    assert len(rows) == 2


async def test_the_summary_follows_a_changed_stay_on_the_next_refresh(client: Client, tenant: TenantKit) -> None:
    admin = await tenant.headers(client)
    place = await make_workplace(client, admin)
    staff = tenant.users["staff"]
    await stay(tenant, staff, place["id"], at(10, 8), at(10, 9))
    await refreshed(tenant)
    assert rows_by(await report(client, admin, "attendance_summary"), "user_id")[str(staff)]["worked_minutes"] == 60

    await stay(tenant, staff, place["id"], at(11, 8), at(11, 10))
    assert rows_by(await report(client, admin, "attendance_summary"), "user_id")[str(staff)]["worked_minutes"] == 60
    await refreshed(tenant)
    assert rows_by(await report(client, admin, "attendance_summary"), "user_id")[str(staff)]["worked_minutes"] == 180


async def _one_off(kit: TenantKit, user: UUID, workplace: str, day: int) -> Shift:
    return Shift(
        tenant_id=kit.id,
        user_id=user,
        workplace_id=UUID(workplace),
        kind="one_off",
        starts_at=at(day, 8),
        ends_at=at(day, 16),
    )


async def test_lateness_counts_late_arrivals_minutes_and_absences_and_excuses_leave(
    client: Client, tenant: TenantKit
) -> None:
    admin = await tenant.headers(client)
    place = await make_workplace(client, admin)
    staff = tenant.users["staff"]
    annual = LeaveType(tenant_id=tenant.id, key="r-away", name="Away", yearly_days=24.0, accrual="yearly")
    await add(tenant, annual, *[await _one_off(tenant, staff, place["id"], day) for day in (2, 3, 4, 5)])
    await add(
        tenant,
        LeaveRequest(
            tenant_id=tenant.id,
            user_id=staff,
            leave_type_id=annual.id,
            start_date=date(2026, 3, 5),
            end_date=date(2026, 3, 5),
            days=1.0,
            timezone="Europe/Paris",
            status="approved",
        ),
    )
    await stay(tenant, staff, place["id"], at(2, 8, 5), at(2, 16))  # within the 10 minutes allowed
    await stay(tenant, staff, place["id"], at(3, 8, 25), at(3, 16))  # 25 minutes late
    # The 4th: never came (absent); the 5th: on approved leave (not counted).

    rows = rows_by(await report(client, admin, "lateness"), "user_id")

    assert {k: rows[str(staff)][k] for k in ("shifts", "late", "late_minutes", "absent")} == {
        "shifts": 3,
        "late": 1,
        "late_minutes": 25,
        "absent": 1,
    }


async def test_overtime_sums_minutes_by_status_for_periods_in_the_range(client: Client, tenant: TenantKit) -> None:
    admin = await tenant.headers(client)
    staff = tenant.users["staff"]

    def record(day: date, minutes: int, status: str) -> OvertimeRecord:
        return OvertimeRecord(
            tenant_id=tenant.id,
            user_id=staff,
            kind="daily",
            period_start=day,
            timezone="UTC",
            minutes=minutes,
            status=status,
        )

    await add(
        tenant,
        record(date(2026, 3, 2), 30, "approved"),
        record(date(2026, 3, 3), 45, "approved"),
        record(date(2026, 3, 4), 20, "pending"),
        record(date(2026, 3, 6), 60, "rejected"),
        record(date(2026, 4, 1), 90, "approved"),  # out of the range
    )

    row = rows_by(await report(client, admin, "overtime"), "user_id")[str(staff)]

    assert (row["records"], row["approved_minutes"], row["pending_minutes"], row["rejected_minutes"]) == (4, 75, 20, 60)


async def test_leave_balances_accrue_to_the_last_day_and_subtract_taken_and_pending(
    client: Client, tenant: TenantKit
) -> None:
    admin = await tenant.headers(client)
    staff = tenant.users["staff"]
    annual = LeaveType(tenant_id=tenant.id, key="r-annual", name="Annual", yearly_days=24.0, accrual="monthly")
    sick = LeaveType(tenant_id=tenant.id, key="r-sick", name="Sick", yearly_days=10.0, accrual="yearly")

    def leave(kind: LeaveType, first: date, days: float, status: str) -> LeaveRequest:
        return LeaveRequest(
            tenant_id=tenant.id,
            user_id=staff,
            leave_type_id=kind.id,
            start_date=first,
            end_date=first,
            days=days,
            timezone="UTC",
            status=status,
        )

    await add(tenant, annual, sick)
    await add(
        tenant,
        leave(annual, date(2026, 3, 9), 2.0, "approved"),
        leave(annual, date(2026, 3, 16), 1.0, "pending"),
        leave(annual, date(2026, 3, 20), 1.0, "rejected"),
        leave(annual, date(2025, 12, 1), 5.0, "approved"),  # last year's
        leave(sick, date(2026, 2, 2), 0.5, "approved"),
    )

    body = await report(
        client, admin, "leave_balances", **{"from": "2026-03-01", "to": "2026-03-31", "user_id": str(staff)}
    )

    rows = rows_by(body, "leave_type")
    assert {k: rows["r-annual"][k] for k in ("entitled", "accrued", "taken", "pending", "available")} == {
        "entitled": 24.0,
        "accrued": 6.0,
        "taken": 2.0,
        "pending": 1.0,
        "available": 3.0,
    }
    assert (rows["r-sick"]["accrued"], rows["r-sick"]["taken"], rows["r-sick"]["available"]) == (10.0, 0.5, 9.5)
    assert {row["user_id"] for row in body["rows"]} == {str(staff)}


async def test_store_visits_count_clock_ins_people_and_minutes_per_workplace(client: Client, tenant: TenantKit) -> None:
    admin = await tenant.headers(client)
    busy, quiet = (
        await make_workplace(client, admin, code="A-BUSY"),
        await make_workplace(client, admin, code="B-QUIET"),
    )
    staff, other = tenant.users["staff"], tenant.users["supervisor"]
    await stay(tenant, staff, busy["id"], at(2, 8), at(2, 9))
    await stay(tenant, staff, busy["id"], at(3, 8), at(3, 8, 30))
    await stay(tenant, other, busy["id"], at(4, 8), None)
    await stay(tenant, other, quiet["id"], at(4, 12), at(4, 14))

    rows = rows_by(await report(client, admin, "store_visits"), "workplace_code")

    assert {k: rows["A-BUSY"][k] for k in ("visits", "people", "minutes_on_site", "rank")} == {
        "visits": 3,
        "people": 2,
        "minutes_on_site": 90,
        "rank": 1,
    }
    assert {k: rows["B-QUIET"][k] for k in ("visits", "people", "minutes_on_site", "rank")} == {
        "visits": 1,
        "people": 1,
        "minutes_on_site": 120,
        "rank": 2,
    }
