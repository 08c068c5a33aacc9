"""The daily attendance summary follows every change to the stays behind it: a stay moved to another day by a
correction leaves its old day, a deleted stay leaves the summary, a changed break is recounted, and a stay
committed while a refresh runs is counted by the next refresh rather than missed."""

from __future__ import annotations

from datetime import UTC, date, datetime
from uuid import UUID

from sqlalchemy import delete, select, update

from api.reports.summary import refresh_attendance_daily
from persistence.models import AttendanceBreak, AttendanceDaily, AttendanceRecord, User
from tests.api.fieldops.fieldkit import PARIS, Client, make_workplace, stay
from tests.api.reports.arrange import add
from tests.kit import TenantKit


def at(day: int, hour: int) -> datetime:
    return datetime(2026, 3, day, hour, tzinfo=UTC)


async def refreshed(kit: TenantKit) -> None:
    async with kit.runtime.db.transaction(tenant_id=kit.id) as session:
        await refresh_attendance_daily(session, kit.id)


async def summary(kit: TenantKit) -> list[tuple[date, int, int, int]]:
    """``(day, stays, worked_minutes, break_minutes)`` of the tenant's summary rows, by day."""
    async with kit.runtime.db.transaction(tenant_id=kit.id) as session:
        rows = await session.scalars(select(AttendanceDaily).order_by(AttendanceDaily.day))
        return [(r.day, r.stays, r.worked_minutes, r.break_minutes) for r in rows]


async def place(client: Client, kit: TenantKit) -> str:
    workplace_id: str = (await make_workplace(client, await kit.headers(client)))["id"]
    return workplace_id


async def test_a_stay_corrected_onto_a_later_day_leaves_its_old_day(client: Client, tenant: TenantKit) -> None:
    entry = await stay(tenant, tenant.users["staff"], await place(client, tenant), at(2, 8), at(2, 10))
    await refreshed(tenant)
    async with tenant.runtime.db.transaction(tenant_id=tenant.id) as session:
        await session.execute(
            update(AttendanceRecord)
            .where(AttendanceRecord.id == entry)
            .values(clock_in_at=at(5, 8), clock_out_at=at(5, 11))
        )
    await refreshed(tenant)
    assert await summary(tenant) == [(date(2026, 3, 5), 1, 180, 0)]


async def test_a_deleted_stay_leaves_the_summary(client: Client, tenant: TenantKit) -> None:
    workplace_id = await place(client, tenant)
    gone = await stay(tenant, tenant.users["staff"], workplace_id, at(2, 8), at(2, 10))
    await stay(tenant, tenant.users["staff"], workplace_id, at(2, 12), at(2, 13))
    await refreshed(tenant)
    async with tenant.runtime.db.transaction(tenant_id=tenant.id) as session:
        await session.execute(delete(AttendanceRecord).where(AttendanceRecord.id == gone))
    await refreshed(tenant)
    assert await summary(tenant) == [(date(2026, 3, 2), 1, 60, 0)]


async def test_a_break_added_later_is_recounted(client: Client, tenant: TenantKit) -> None:
    entry = await stay(tenant, tenant.users["staff"], await place(client, tenant), at(2, 8), at(2, 12))
    await refreshed(tenant)
    pause = AttendanceBreak(
        tenant_id=tenant.id, attendance_id=entry, user_id=tenant.users["staff"], started_at=at(2, 9), ended_at=at(2, 10)
    )
    await add(tenant, pause)
    await refreshed(tenant)
    assert await summary(tenant) == [(date(2026, 3, 2), 1, 180, 60)]


async def test_a_stay_committed_during_a_refresh_is_counted_by_the_next(client: Client, tenant: TenantKit) -> None:
    workplace_id = UUID(await place(client, tenant))
    async with tenant.runtime.db.transaction(tenant_id=tenant.id) as session:
        session.add(
            AttendanceRecord(
                tenant_id=tenant.id,
                user_id=tenant.users["staff"],
                workplace_id=workplace_id,
                clock_in_at=at(2, 8),
                clock_in_received_at=at(2, 8),
                clock_in_latitude=PARIS[0],
                clock_in_longitude=PARIS[1],
                clock_in_distance_m=0.0,
                clock_out_at=at(2, 9),
                clock_out_received_at=at(2, 9),
            )
        )
        await session.flush()
        # Written, not yet committed, while another stay is committed and summarised: the refresh cannot see
        # the first one, and the summary it writes is newer than that stay's last change.
        await stay(tenant, tenant.users["staff"], str(workplace_id), at(3, 8), at(3, 10))
        await refreshed(tenant)
    assert await summary(tenant) == [(date(2026, 3, 3), 1, 120, 0)]
    await refreshed(tenant)
    assert await summary(tenant) == [(date(2026, 3, 2), 1, 60, 0), (date(2026, 3, 3), 1, 120, 0)]


async def test_nothing_changed_rebuilds_nothing(client: Client, tenant: TenantKit) -> None:
    await stay(tenant, tenant.users["staff"], await place(client, tenant), at(2, 8), at(2, 9))
    await refreshed(tenant)
    async with tenant.runtime.db.transaction(tenant_id=tenant.id) as session:
        assert await refresh_attendance_daily(session, tenant.id) == 0


async def test_a_person_deleted_with_their_stays_leaves_no_change_behind(client: Client, tenant: TenantKit) -> None:
    someone = await tenant.add_user("leaver", roles=["staff"])
    await stay(tenant, someone, await place(client, tenant), at(2, 8), at(2, 9))
    await refreshed(tenant)
    async with tenant.runtime.db.transaction(tenant_id=tenant.id) as session:
        await session.execute(delete(User).where(User.id == someone))
    async with tenant.runtime.db.transaction(tenant_id=tenant.id) as session:
        assert await refresh_attendance_daily(session, tenant.id) == 0
    assert await summary(tenant) == []
