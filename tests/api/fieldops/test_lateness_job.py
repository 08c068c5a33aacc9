"""Lateness: the worker's job, run with a moved clock, tells the person once, then the workplace's supervisors
once; people who clocked in, are on approved leave, or are of another tenant are not late."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from uuid import UUID

from sqlalchemy import select

from api.attendance.lateness import LATENESS_JOB, LATENESS_PERIODICS, late_now, lateness_job_handlers
from api.runtime import Runtime
from persistence.models import Job, LeaveRequest, LeaveType, Notification
from persistence.schedule import schedule_due
from tests.api.fieldops.fieldkit import Client, assign, make_workplace, periodic_job, stay
from tests.kit import TenantKit

# A Monday; the shift runs 09:00-17:00 in Paris (08:00-16:00 UTC in winter).
STARTS = datetime(2031, 1, 6, 8, 0, tzinfo=UTC)


async def shift_at(client: Client, tenant: TenantKit, starts: datetime = STARTS) -> str:
    """A workplace with the staff member and a supervisor assigned, and the staff member's shift; its id."""
    admin = await tenant.headers(client)
    workplace = await make_workplace(client, admin)
    await assign(client, admin, workplace["id"], tenant.users["staff"])
    await assign(client, admin, workplace["id"], tenant.users["supervisor"], "supervisor")
    body = {
        "user_id": str(tenant.users["staff"]),
        "workplace_id": workplace["id"],
        "starts_at": starts.isoformat(),
        "ends_at": (starts + timedelta(hours=8)).isoformat(),
    }
    response = await client.post("/api/v1/shifts", json=body, headers=admin)
    assert response.status_code == 201, response.text
    workplace_id: str = workplace["id"]
    return workplace_id


async def run_job(runtime: Runtime, tenant: TenantKit, now: datetime) -> None:
    await lateness_job_handlers(db=runtime.db)[LATENESS_JOB](periodic_job(tenant, LATENESS_JOB, now))


async def late_notifications(runtime: Runtime, tenant: TenantKit, user_id: UUID) -> list[Notification]:
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        rows = await session.scalars(
            select(Notification).where(
                Notification.user_id == user_id,
                Notification.category == "shift",
                # Not the notice that the shift was planned, which is in the same category.
                Notification.title.contains("not clocked in"),
            )
        )
        return list(rows.all())


async def test_nobody_is_late_before_the_delay(client: Client, tenant: TenantKit, runtime: Runtime) -> None:
    await shift_at(client, tenant)
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        assert await late_now(session, STARTS + timedelta(minutes=9)) == []


async def test_late_now_says_who_is_late_where(client: Client, tenant: TenantKit, runtime: Runtime) -> None:
    workplace_id = await shift_at(client, tenant)
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        [late] = await late_now(session, STARTS + timedelta(minutes=25))
    assert (late.user_id, str(late.workplace_id), late.minutes_late, late.absent) == (
        tenant.users["staff"],
        workplace_id,
        25,
        False,
    )


async def test_a_missed_shift_is_an_absence(client: Client, tenant: TenantKit, runtime: Runtime) -> None:
    await shift_at(client, tenant)
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        [late] = await late_now(session, STARTS + timedelta(hours=9))
    assert late.absent is True


async def test_the_person_then_the_supervisor_are_told_once_each(
    client: Client, tenant: TenantKit, runtime: Runtime
) -> None:
    await shift_at(client, tenant)
    staff, supervisor = tenant.users["staff"], tenant.users["supervisor"]

    await run_job(runtime, tenant, STARTS + timedelta(minutes=11))
    assert len(await late_notifications(runtime, tenant, staff)) == 1
    assert await late_notifications(runtime, tenant, supervisor) == []

    # Still within the escalation delay (10 + 20 minutes): nothing new.
    await run_job(runtime, tenant, STARTS + timedelta(minutes=20))
    assert len(await late_notifications(runtime, tenant, staff)) == 1
    assert await late_notifications(runtime, tenant, supervisor) == []

    for minutes in (30, 35, 60):
        await run_job(runtime, tenant, STARTS + timedelta(minutes=minutes))
    [told] = await late_notifications(runtime, tenant, supervisor)
    assert told.data["user_id"] == str(staff)
    assert told.data["starts_at"] == STARTS.isoformat()
    assert len(await late_notifications(runtime, tenant, staff)) == 1


async def test_the_delays_follow_the_tenants_policy(client: Client, tenant: TenantKit, runtime: Runtime) -> None:
    await shift_at(client, tenant)
    policy = {"late_after_minutes": 30, "escalate_after_minutes": 5}
    assert (await client.put("/api/v1/attendance/policy", json=policy, headers=await tenant.headers(client))).is_success
    await run_job(runtime, tenant, STARTS + timedelta(minutes=20))
    assert await late_notifications(runtime, tenant, tenant.users["staff"]) == []
    await run_job(runtime, tenant, STARTS + timedelta(minutes=35))
    assert len(await late_notifications(runtime, tenant, tenant.users["staff"])) == 1
    assert len(await late_notifications(runtime, tenant, tenant.users["supervisor"])) == 1


async def test_someone_who_clocked_in_is_not_late(client: Client, tenant: TenantKit, runtime: Runtime) -> None:
    workplace_id = await shift_at(client, tenant)
    await stay(tenant, tenant.users["staff"], workplace_id, STARTS + timedelta(minutes=4), None)
    await run_job(runtime, tenant, STARTS + timedelta(minutes=45))
    assert await late_notifications(runtime, tenant, tenant.users["staff"]) == []


async def test_someone_on_approved_leave_is_not_late(client: Client, tenant: TenantKit, runtime: Runtime) -> None:
    await shift_at(client, tenant)
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        annual = await session.scalar(select(LeaveType.id).where(LeaveType.key == "annual"))
        session.add(
            LeaveRequest(
                tenant_id=tenant.id,
                user_id=tenant.users["staff"],
                leave_type_id=annual,
                start_date=date(2031, 1, 6),
                end_date=date(2031, 1, 10),
                days=5.0,
                timezone="UTC",
                status="approved",
            )
        )
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        assert await late_now(session, STARTS + timedelta(minutes=45)) == []


async def test_another_tenants_late_staff_are_not_reported(
    client: Client, tenant: TenantKit, other_tenant: TenantKit, runtime: Runtime
) -> None:
    await shift_at(client, other_tenant)
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        assert await late_now(session, STARTS + timedelta(minutes=45)) == []
    await run_job(runtime, tenant, STARTS + timedelta(minutes=45))
    assert await late_notifications(runtime, other_tenant, other_tenant.users["staff"]) == []


async def test_a_weekly_shift_is_late_by_its_local_start_on_the_spring_forward_day(
    client: Client, tenant: TenantKit, runtime: Runtime
) -> None:
    admin = await tenant.headers(client)
    workplace = await make_workplace(client, admin)
    await assign(client, admin, workplace["id"], tenant.users["staff"])
    rule = {"weekdays": ["sun"], "start_time": "09:00", "duration_minutes": 240, "from_date": "2026-03-01"}
    body = {"user_id": str(tenant.users["staff"]), "workplace_id": workplace["id"], "recurrence": rule}
    assert (await client.post("/api/v1/shifts", json=body, headers=admin)).status_code == 201
    # 09:00 CEST on 29 March 2026 is 07:00 UTC: late at 07:11 UTC, not at 06:59.
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        assert await late_now(session, datetime(2026, 3, 29, 6, 59, tzinfo=UTC)) == []
        [late] = await late_now(session, datetime(2026, 3, 29, 7, 11, tzinfo=UTC))
    assert late.starts_at == datetime(2026, 3, 29, 7, 0, tzinfo=UTC)


async def test_the_schedule_enqueues_a_lateness_job_whose_handler_notifies(
    client: Client, tenant: TenantKit, runtime: Runtime
) -> None:
    await shift_at(client, tenant)
    slot_time = STARTS + timedelta(minutes=16)
    await schedule_due(runtime.db, LATENESS_PERIODICS, now=slot_time)
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        [job] = (await session.scalars(select(Job).where(Job.kind == LATENESS_JOB))).all()
    # The slot starts on the 5-minute boundary: 08:15, fifteen minutes after the shift started.
    assert job.payload == {"slot_start": (STARTS + timedelta(minutes=15)).isoformat()}
    claimed = periodic_job(tenant, LATENESS_JOB, datetime.fromisoformat(job.payload["slot_start"]))
    await lateness_job_handlers(db=runtime.db)[LATENESS_JOB](claimed)
    assert len(await late_notifications(runtime, tenant, tenant.users["staff"])) == 1
