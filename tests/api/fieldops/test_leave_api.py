"""Leave: default types, working days and half days, balances through the approval hook, refusals (overlap,
over the balance, bad dates, other tenants' ids), cancelling, and the team calendar. The staff member reports to
the supervisor, whom the default leave workflow asks (``test_field_approvals`` decides through approvals)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest
from sqlalchemy import func, select

from api.errors import AppError
from api.leave.decisions import apply_decision
from api.runtime import Runtime
from persistence.models import LeaveRequest, Notification
from tests.api.fieldops.fieldkit import Client, assign, make_workplace, report_to
from tests.api.identity.arrange import Headers, add_department, refusal
from tests.kit import TenantKit

LEAVE = "/api/v1/leave"
# Monday 7 January 2030: a year whose whole yearly entitlement is accrued by then.
MONDAY = date(2030, 1, 7)


@pytest.fixture(autouse=True)
async def _staff_reports_to_supervisor(tenant: TenantKit) -> None:
    await report_to(tenant, tenant.users["staff"], tenant.users["supervisor"])


async def training_type(client: Client, tenant: TenantKit, **fields: Any) -> str:
    """A leave type of 5 days a year, all of them from 1 January, not to be exceeded; its id."""
    body = {"key": "training", "name": "Training", "yearly_days": 5, "accrual": "yearly"} | fields
    response = await client.post(f"{LEAVE}/types", json=body, headers=await tenant.headers(client))
    assert response.status_code == 201, response.text
    type_id: str = response.json()["id"]
    return type_id


async def ask(client: Client, headers: Headers, type_id: str, first: date, last: date, part: str = "full") -> Any:
    body = {"leave_type_id": type_id, "start_date": first.isoformat(), "end_date": last.isoformat(), "part": part}
    return await client.post(f"{LEAVE}/requests", json=body, headers=headers)


async def balance(client: Client, headers: Headers, key: str, year: int = 2030) -> dict[str, Any]:
    response = await client.get(f"{LEAVE}/balances/mine", params={"year": year}, headers=headers)
    assert response.status_code == 200, response.text
    found: dict[str, Any] = {b["key"]: b for b in response.json()["balances"]}[key]
    return found


async def decide(runtime: Runtime, tenant: TenantKit, request_id: str, outcome: Any) -> None:
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        await apply_decision(
            session, request_id=UUID(request_id), outcome=outcome, decided_by=tenant.users["supervisor"]
        )


async def request_count(runtime: Runtime, tenant: TenantKit) -> int:
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        return await session.scalar(select(func.count()).select_from(LeaveRequest)) or 0


async def test_a_new_tenant_has_annual_sick_and_unpaid_leave(client: Client, tenant: TenantKit) -> None:
    response = await client.get(f"{LEAVE}/types", headers=await tenant.headers(client, "staff"))
    assert [(t["key"], t["accrual"], t["allow_negative"]) for t in response.json()] == [
        ("annual", "monthly", False),
        ("sick", "yearly", True),
        ("unpaid", "yearly", True),
    ]


async def test_annual_leave_accrues_monthly(client: Client, tenant: TenantKit) -> None:
    staff = await tenant.headers(client, "staff")
    today = datetime.now(UTC).date()
    annual = await balance(client, staff, "annual", today.year)
    assert (annual["entitled"], annual["accrued"]) == (25, round(25 * today.month / 12, 2))
    assert (await balance(client, staff, "annual", today.year - 1))["accrued"] == 25


async def test_a_request_counts_working_days_and_is_pending(client: Client, tenant: TenantKit) -> None:
    type_id = await training_type(client, tenant)
    staff = await tenant.headers(client, "staff")
    # Friday to Tuesday: the weekend is not counted.
    response = await ask(client, staff, type_id, MONDAY + timedelta(days=4), MONDAY + timedelta(days=8))
    assert response.status_code == 201, response.text
    assert (response.json()["days"], response.json()["status"]) == (3, "pending")
    assert (await balance(client, staff, "training")) | {"leave_type_id": None} == {
        "leave_type_id": None,
        "key": "training",
        "name": "Training",
        "year": 2030,
        "entitled": 5,
        "accrued": 5,
        "taken": 0,
        "pending": 3,
        "available": 2,
        "allow_negative": False,
    }


async def test_approval_takes_the_days_and_rejection_frees_them(
    client: Client, tenant: TenantKit, runtime: Runtime
) -> None:
    type_id = await training_type(client, tenant)
    staff = await tenant.headers(client, "staff")
    approved = (await ask(client, staff, type_id, MONDAY, MONDAY + timedelta(days=1))).json()["id"]
    rejected = (await ask(client, staff, type_id, MONDAY + timedelta(days=2), MONDAY + timedelta(days=2))).json()["id"]
    await decide(runtime, tenant, approved, "approved")
    await decide(runtime, tenant, rejected, "rejected")
    training = await balance(client, staff, "training")
    assert (training["taken"], training["pending"], training["available"]) == (2, 0, 3)
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        told = (await session.scalars(select(Notification).where(Notification.category == "leave"))).all()
    assert sorted(n.title.split(":")[0] for n in told) == ["Training approved", "Training rejected"]


async def test_an_expired_approval_cancels_the_request(client: Client, tenant: TenantKit, runtime: Runtime) -> None:
    type_id = await training_type(client, tenant)
    staff = await tenant.headers(client, "staff")
    request_id = (await ask(client, staff, type_id, MONDAY, MONDAY)).json()["id"]
    await decide(runtime, tenant, request_id, "expired")
    await decide(runtime, tenant, request_id, "expired")
    assert (await client.get(f"{LEAVE}/requests/{request_id}", headers=staff)).json()["status"] == "cancelled"
    assert (await balance(client, staff, "training"))["pending"] == 0
    with pytest.raises(AppError) as refused:
        await decide(runtime, tenant, request_id, "approved")
    assert refused.value.code == "not_pending"


async def test_a_request_over_the_balance_is_refused(client: Client, tenant: TenantKit, runtime: Runtime) -> None:
    type_id = await training_type(client, tenant)
    staff = await tenant.headers(client, "staff")
    await ask(client, staff, type_id, MONDAY, MONDAY + timedelta(days=2))
    response = await ask(client, staff, type_id, MONDAY + timedelta(days=7), MONDAY + timedelta(days=9))
    assert refusal(response) == (409, "insufficient_balance")
    assert response.json()["error"]["details"] == {"requested": 3.0, "available": 2.0}
    assert await request_count(runtime, tenant) == 1


async def test_a_type_that_allows_it_may_go_negative(client: Client, tenant: TenantKit) -> None:
    type_id = await training_type(client, tenant, allow_negative=True)
    staff = await tenant.headers(client, "staff")
    response = await ask(client, staff, type_id, MONDAY, MONDAY + timedelta(days=11))
    assert response.status_code == 201, response.text
    assert (await balance(client, staff, "training"))["available"] == -5


async def test_overlapping_requests_are_refused(client: Client, tenant: TenantKit, runtime: Runtime) -> None:
    type_id = await training_type(client, tenant, allow_negative=True)
    staff = await tenant.headers(client, "staff")
    first = (await ask(client, staff, type_id, MONDAY, MONDAY + timedelta(days=2))).json()["id"]
    response = await ask(client, staff, type_id, MONDAY + timedelta(days=2), MONDAY + timedelta(days=3))
    assert refusal(response) == (409, "leave_overlap")
    assert response.json()["error"]["details"]["request_id"] == first
    assert refusal(await ask(client, staff, type_id, MONDAY, MONDAY, "pm")) == (409, "leave_overlap")
    assert await request_count(runtime, tenant) == 1


async def test_the_two_halves_of_a_day_do_not_overlap(client: Client, tenant: TenantKit) -> None:
    type_id = await training_type(client, tenant)
    staff = await tenant.headers(client, "staff")
    morning = await ask(client, staff, type_id, MONDAY, MONDAY, "am")
    assert morning.json()["days"] == 0.5
    assert (await ask(client, staff, type_id, MONDAY, MONDAY, "pm")).status_code == 201
    assert refusal(await ask(client, staff, type_id, MONDAY, MONDAY, "am")) == (409, "leave_overlap")
    assert (await balance(client, staff, "training"))["pending"] == 1


async def test_a_rejected_or_cancelled_request_frees_its_dates(
    client: Client, tenant: TenantKit, runtime: Runtime
) -> None:
    type_id = await training_type(client, tenant)
    staff = await tenant.headers(client, "staff")
    first = (await ask(client, staff, type_id, MONDAY, MONDAY)).json()["id"]
    await decide(runtime, tenant, first, "rejected")
    assert (await ask(client, staff, type_id, MONDAY, MONDAY)).status_code == 201


async def test_bad_dates_are_refused(client: Client, tenant: TenantKit, runtime: Runtime) -> None:
    type_id = await training_type(client, tenant)
    staff = await tenant.headers(client, "staff")
    assert refusal(await ask(client, staff, type_id, MONDAY, MONDAY - timedelta(days=1))) == (422, "invalid_range")
    two_halves = await ask(client, staff, type_id, MONDAY, MONDAY + timedelta(days=1), "am")
    assert refusal(two_halves) == (422, "half_day_single_date")
    across = await ask(client, staff, type_id, date(2030, 12, 30), date(2031, 1, 2))
    assert refusal(across) == (422, "crosses_year")
    weekend = await ask(client, staff, type_id, MONDAY - timedelta(days=2), MONDAY - timedelta(days=1))
    assert refusal(weekend) == (422, "no_working_days")
    assert await request_count(runtime, tenant) == 0


async def test_another_tenants_leave_type_is_not_found(
    client: Client, tenant: TenantKit, other_tenant: TenantKit
) -> None:
    theirs = await training_type(client, other_tenant)
    staff = await tenant.headers(client, "staff")
    assert refusal(await ask(client, staff, theirs, MONDAY, MONDAY)) == (404, "not_found")


async def test_a_type_no_longer_offered_takes_no_requests(client: Client, tenant: TenantKit) -> None:
    type_id = await training_type(client, tenant)
    await client.patch(f"{LEAVE}/types/{type_id}", json={"active": False}, headers=await tenant.headers(client))
    staff = await tenant.headers(client, "staff")
    assert refusal(await ask(client, staff, type_id, MONDAY, MONDAY)) == (409, "leave_type_inactive")


async def test_types_are_managed_by_admins_and_keys_are_unique(client: Client, tenant: TenantKit) -> None:
    await training_type(client, tenant)
    body = {"key": "training", "name": "Again"}
    assert refusal(await client.post(f"{LEAVE}/types", json=body, headers=await tenant.headers(client))) == (
        409,
        "conflict",
    )
    staff = await tenant.headers(client, "staff")
    assert refusal(await client.post(f"{LEAVE}/types", json=body, headers=staff)) == (403, "forbidden")


async def test_the_requester_cancels_pending_leave_and_frees_the_days(client: Client, tenant: TenantKit) -> None:
    type_id = await training_type(client, tenant)
    staff = await tenant.headers(client, "staff")
    request_id = (await ask(client, staff, type_id, MONDAY, MONDAY + timedelta(days=1))).json()["id"]
    cancelled = await client.post(f"{LEAVE}/requests/{request_id}/cancel", headers=staff)
    assert cancelled.json()["status"] == "cancelled"
    assert (await balance(client, staff, "training"))["available"] == 5
    again = await client.post(f"{LEAVE}/requests/{request_id}/cancel", headers=staff)
    assert refusal(again) == (409, "not_cancellable")


async def test_approved_leave_that_has_started_cannot_be_cancelled(
    client: Client, tenant: TenantKit, runtime: Runtime
) -> None:
    type_id = await training_type(client, tenant)
    staff = await tenant.headers(client, "staff")
    today = datetime.now(UTC).date()
    # Sick leave taken from the start of this week, reported late: allowed to go negative, dates in the past.
    sick = (await client.get(f"{LEAVE}/types", headers=staff)).json()[1]["id"]
    started = (await ask(client, staff, sick, today - timedelta(days=today.weekday()), today)).json()["id"]
    await decide(runtime, tenant, started, "approved")
    assert refusal(await client.post(f"{LEAVE}/requests/{started}/cancel", headers=staff)) == (409, "not_cancellable")
    future = (await ask(client, staff, type_id, MONDAY, MONDAY)).json()["id"]
    await decide(runtime, tenant, future, "approved")
    assert (await client.post(f"{LEAVE}/requests/{future}/cancel", headers=staff)).json()["status"] == "cancelled"


async def test_someone_elses_request_is_not_found_without_leave_read(client: Client, tenant: TenantKit) -> None:
    type_id = await training_type(client, tenant)
    request_id = (await ask(client, await tenant.headers(client, "staff"), type_id, MONDAY, MONDAY)).json()["id"]
    await tenant.add_user("colleague", roles=["staff"])
    colleague = await tenant.headers(client, "colleague")
    assert refusal(await client.get(f"{LEAVE}/requests/{request_id}", headers=colleague)) == (404, "not_found")
    assert refusal(await client.post(f"{LEAVE}/requests/{request_id}/cancel", headers=colleague)) == (404, "not_found")
    supervisor = await tenant.headers(client, "supervisor")
    assert (await client.get(f"{LEAVE}/requests/{request_id}", headers=supervisor)).status_code == 200


async def test_the_calendar_shows_who_is_away(client: Client, tenant: TenantKit, runtime: Runtime) -> None:
    type_id = await training_type(client, tenant)
    staff = await tenant.headers(client, "staff")
    approved = (await ask(client, staff, type_id, MONDAY, MONDAY + timedelta(days=1))).json()["id"]
    await decide(runtime, tenant, approved, "approved")
    pending = (await ask(client, staff, type_id, MONDAY + timedelta(days=7), MONDAY + timedelta(days=7))).json()["id"]
    week = {"from": "2030-01-07", "to": "2030-01-20"}
    shown = (await client.get(f"{LEAVE}/calendar", params=week, headers=staff)).json()["away"]
    assert [(e["request_id"], e["user_name"], e["leave_type"]) for e in shown] == [(approved, "Staff", "training")]
    with_pending = await client.get(f"{LEAVE}/calendar", params=week | {"include_pending": True}, headers=staff)
    assert [e["request_id"] for e in with_pending.json()["away"]] == [approved, pending]
    later = await client.get(f"{LEAVE}/calendar", params={"from": "2030-02-01", "to": "2030-02-28"}, headers=staff)
    assert later.json()["away"] == []


async def test_the_calendar_narrows_to_a_workplace_or_department(
    client: Client, tenant: TenantKit, runtime: Runtime
) -> None:
    type_id = await training_type(client, tenant)
    request_id = (await ask(client, await tenant.headers(client, "staff"), type_id, MONDAY, MONDAY)).json()["id"]
    await decide(runtime, tenant, request_id, "approved")
    admin = await tenant.headers(client)
    workplace = await make_workplace(client, admin)
    empty = await make_workplace(client, admin)
    await assign(client, admin, workplace["id"], tenant.users["staff"])
    department = await add_department(tenant, "Field")
    week = {"from": "2030-01-07", "to": "2030-01-13"}
    supervisor = await tenant.headers(client, "supervisor")
    here = await client.get(f"{LEAVE}/calendar", params=week | {"workplace_id": workplace["id"]}, headers=supervisor)
    assert len(here.json()["away"]) == 1
    there = await client.get(f"{LEAVE}/calendar", params=week | {"workplace_id": empty["id"]}, headers=supervisor)
    assert there.json()["away"] == []
    by_department = await client.get(
        f"{LEAVE}/calendar", params=week | {"department_id": str(department)}, headers=supervisor
    )
    assert by_department.json()["away"] == []


async def test_the_calendar_refuses_other_tenants_ids_and_long_ranges(
    client: Client, tenant: TenantKit, other_tenant: TenantKit
) -> None:
    theirs = await make_workplace(client, await other_tenant.headers(client))
    staff = await tenant.headers(client, "staff")
    week = {"from": "2030-01-07", "to": "2030-01-13"}
    response = await client.get(f"{LEAVE}/calendar", params=week | {"workplace_id": theirs["id"]}, headers=staff)
    assert refusal(response) == (404, "not_found")
    long = await client.get(f"{LEAVE}/calendar", params={"from": "2030-01-01", "to": "2030-12-31"}, headers=staff)
    assert refusal(long) == (422, "invalid_range")


async def test_a_supervisor_reads_someones_balances_but_not_another_tenants(
    client: Client, tenant: TenantKit, other_tenant: TenantKit
) -> None:
    supervisor = await tenant.headers(client, "supervisor")
    mine = await client.get(f"{LEAVE}/balances/{tenant.users['staff']}", headers=supervisor)
    assert {b["key"] for b in mine.json()["balances"]} == {"annual", "sick", "unpaid"}
    theirs = await client.get(f"{LEAVE}/balances/{other_tenant.users['staff']}", headers=supervisor)
    assert refusal(theirs) == (404, "not_found")
    staff = await tenant.headers(client, "staff")
    other = await client.get(f"{LEAVE}/balances/{tenant.users['supervisor']}", headers=staff)
    assert refusal(other) == (403, "forbidden")
