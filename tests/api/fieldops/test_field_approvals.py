"""Leave and overtime go to approval: the manager decides through the approvals API and the leave request or
overtime record follows (balances with it); withdrawing one's own cancels its approval request; nobody approves
their own; overtime nobody can approve waits instead of failing the clock-out."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import select, update

from api.runtime import Runtime
from persistence.models import ApprovalRequest, ApprovalWorkflow, LeaveRequest, OvertimeRecord
from tests.api.fieldops.fieldkit import Client, report_to, stay
from tests.api.fieldops.test_leave_api import LEAVE, ask, balance, training_type
from tests.api.fieldops.test_overtime_api import MONDAY, correct, with_rules
from tests.api.identity.arrange import Headers, refusal
from tests.kit import TenantKit

DAY = date(2030, 1, 7)  # a Monday of a year whose whole entitlement is accrued


async def approval_of(runtime: Runtime, tenant: TenantKit, subject_id: Any) -> ApprovalRequest | None:
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        found: ApprovalRequest | None = await session.scalar(
            select(ApprovalRequest).where(ApprovalRequest.subject_id == UUID(str(subject_id)))
        )
        return found


async def decide(client: Client, headers: Headers, request_id: UUID, decision: str) -> Any:
    return await client.post(
        f"/api/v1/approvals/{request_id}/decisions", json={"decision": decision, "comment": ""}, headers=headers
    )


async def leave_request(client: Client, tenant: TenantKit) -> tuple[str, Headers]:
    """Two training days asked by the staff member, who reports to the supervisor; the request's id."""
    await report_to(tenant, tenant.users["staff"], tenant.users["supervisor"])
    type_id = await training_type(client, tenant)
    staff = await tenant.headers(client, "staff")
    response = await ask(client, staff, type_id, DAY, DAY + timedelta(days=1))
    assert response.status_code == 201, response.text
    request_id: str = response.json()["id"]
    return request_id, staff


async def leave_status(client: Client, headers: Headers, request_id: str) -> str:
    status: str = (await client.get(f"{LEAVE}/requests/{request_id}", headers=headers)).json()["status"]
    return status


# -- leave ---------------------------------------------------------------------------------------


async def test_a_leave_request_waits_on_the_managers_approval(
    client: Client, tenant: TenantKit, runtime: Runtime
) -> None:
    request_id, _ = await leave_request(client, tenant)
    approval = await approval_of(runtime, tenant, request_id)
    assert approval is not None
    assert (approval.kind, approval.status, approval.requester_id) == ("leave", "pending", tenant.users["staff"])
    waiting = await client.get(
        "/api/v1/approvals", params={"scope": "to_decide"}, headers=await tenant.headers(client, "supervisor")
    )
    assert [r["subject_id"] for r in waiting.json()["items"]] == [request_id]


async def test_approved_leave_counts_as_taken(client: Client, tenant: TenantKit, runtime: Runtime) -> None:
    request_id, staff = await leave_request(client, tenant)
    approval = await approval_of(runtime, tenant, request_id)
    assert approval is not None
    response = await decide(client, await tenant.headers(client, "supervisor"), approval.id, "approve")
    assert response.status_code == 200, response.text
    assert await leave_status(client, staff, request_id) == "approved"
    training = await balance(client, staff, "training")
    assert (training["taken"], training["pending"], training["available"]) == (2, 0, 3)


async def test_rejected_leave_frees_its_pending_days(client: Client, tenant: TenantKit, runtime: Runtime) -> None:
    request_id, staff = await leave_request(client, tenant)
    assert (await balance(client, staff, "training"))["pending"] == 2
    approval = await approval_of(runtime, tenant, request_id)
    assert approval is not None
    response = await decide(client, await tenant.headers(client, "supervisor"), approval.id, "reject")
    assert response.status_code == 200, response.text
    assert await leave_status(client, staff, request_id) == "rejected"
    training = await balance(client, staff, "training")
    assert (training["taken"], training["pending"], training["available"]) == (0, 0, 5)


async def test_nobody_approves_their_own_leave(client: Client, tenant: TenantKit, runtime: Runtime) -> None:
    request_id, staff = await leave_request(client, tenant)
    approval = await approval_of(runtime, tenant, request_id)
    assert approval is not None
    assert refusal(await decide(client, staff, approval.id, "approve")) == (403, "own_request")
    assert await leave_status(client, staff, request_id) == "pending"


async def test_cancelling_leave_cancels_its_approval_request(
    client: Client, tenant: TenantKit, runtime: Runtime
) -> None:
    request_id, staff = await leave_request(client, tenant)
    cancelled = await client.post(f"{LEAVE}/requests/{request_id}/cancel", headers=staff)
    assert cancelled.json()["status"] == "cancelled"
    approval = await approval_of(runtime, tenant, request_id)
    assert approval is not None
    assert approval.status == "cancelled"
    late = await decide(client, await tenant.headers(client, "supervisor"), approval.id, "approve")
    assert refusal(late) == (409, "request_closed")


async def test_leave_nobody_can_approve_is_refused_and_not_kept(
    client: Client, tenant: TenantKit, runtime: Runtime
) -> None:
    type_id = await training_type(client, tenant)
    response = await ask(client, await tenant.headers(client, "staff"), type_id, DAY, DAY)
    assert refusal(response) == (422, "no_approvers")
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        assert (await session.scalars(select(LeaveRequest))).all() == []
        assert (await session.scalars(select(ApprovalRequest))).all() == []


# -- overtime ------------------------------------------------------------------------------------


async def overtime_record(client: Client, tenant: TenantKit, runtime: Runtime) -> tuple[OvertimeRecord, UUID]:
    """An hour of daily overtime on a corrected stay (the threshold is eight hours); the record and its stay."""
    workplace_id = await with_rules(client, tenant, daily_threshold_minutes=480)
    entry = await stay(tenant, tenant.users["staff"], workplace_id, MONDAY, MONDAY + timedelta(hours=8))
    await correct(client, tenant, entry, MONDAY + timedelta(hours=9))
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        record = await session.scalar(select(OvertimeRecord))
    assert record is not None
    assert (record.minutes, record.status) == (60, "pending")
    return record, entry


async def overtime_status(runtime: Runtime, tenant: TenantKit, record_id: UUID) -> str:
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        record = await session.get_one(OvertimeRecord, record_id)
        return record.status


async def test_approved_overtime_is_approved(client: Client, tenant: TenantKit, runtime: Runtime) -> None:
    await report_to(tenant, tenant.users["staff"], tenant.users["supervisor"])
    record, _ = await overtime_record(client, tenant, runtime)
    approval = await approval_of(runtime, tenant, record.id)
    assert approval is not None
    assert (approval.kind, approval.status) == ("overtime", "pending")
    response = await decide(client, await tenant.headers(client, "supervisor"), approval.id, "approve")
    assert response.status_code == 200, response.text
    assert await overtime_status(runtime, tenant, record.id) == "approved"


async def test_rejected_overtime_is_rejected_and_not_claimed_again(
    client: Client, tenant: TenantKit, runtime: Runtime
) -> None:
    await report_to(tenant, tenant.users["staff"], tenant.users["supervisor"])
    record, entry = await overtime_record(client, tenant, runtime)
    approval = await approval_of(runtime, tenant, record.id)
    assert approval is not None
    await decide(client, await tenant.headers(client, "supervisor"), approval.id, "reject")
    assert await overtime_status(runtime, tenant, record.id) == "rejected"
    # The same day corrected again: the rejected hour stays decided; only the new half hour is claimed.
    await correct(client, tenant, entry, MONDAY + timedelta(hours=9, minutes=30))
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        rows = (await session.scalars(select(OvertimeRecord).order_by(OvertimeRecord.created_at))).all()
    assert [(r.minutes, r.status) for r in rows] == [(60, "rejected"), (30, "pending")]
    assert await approval_of(runtime, tenant, rows[1].id) is not None


async def test_nobody_approves_their_own_overtime(client: Client, tenant: TenantKit, runtime: Runtime) -> None:
    await report_to(tenant, tenant.users["staff"], tenant.users["supervisor"])
    record, _ = await overtime_record(client, tenant, runtime)
    approval = await approval_of(runtime, tenant, record.id)
    assert approval is not None
    refused = await decide(client, await tenant.headers(client, "staff"), approval.id, "approve")
    assert refusal(refused) == (403, "own_request")
    assert await overtime_status(runtime, tenant, record.id) == "pending"


async def test_withdrawing_overtime_cancels_its_approval_request(
    client: Client, tenant: TenantKit, runtime: Runtime
) -> None:
    await report_to(tenant, tenant.users["staff"], tenant.users["supervisor"])
    record, _ = await overtime_record(client, tenant, runtime)
    staff = await tenant.headers(client, "staff")
    response = await client.post(f"/api/v1/overtime/{record.id}/cancel", headers=staff)
    assert response.json()["status"] == "cancelled", response.text
    approval = await approval_of(runtime, tenant, record.id)
    assert approval is not None
    assert approval.status == "cancelled"


async def test_a_correction_that_removes_the_overtime_cancels_its_approval_request(
    client: Client, tenant: TenantKit, runtime: Runtime
) -> None:
    await report_to(tenant, tenant.users["staff"], tenant.users["supervisor"])
    record, entry = await overtime_record(client, tenant, runtime)
    await correct(client, tenant, entry, MONDAY + timedelta(hours=7))
    assert await overtime_status(runtime, tenant, record.id) == "cancelled"
    approval = await approval_of(runtime, tenant, record.id)
    assert approval is not None
    assert approval.status == "cancelled"


async def test_overtime_nobody_can_approve_waits_and_goes_once_someone_can(
    client: Client, tenant: TenantKit, runtime: Runtime
) -> None:
    record, entry = await overtime_record(client, tenant, runtime)
    assert await approval_of(runtime, tenant, record.id) is None
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        assert (await session.get_one(OvertimeRecord, record.id)).note.startswith("Not sent for approval")
    await report_to(tenant, tenant.users["staff"], tenant.users["supervisor"])
    await correct(client, tenant, entry, MONDAY + timedelta(hours=9, minutes=15))
    approval = await approval_of(runtime, tenant, record.id)
    assert approval is not None
    assert approval.status == "pending"


async def test_an_inactive_overtime_workflow_does_not_fail_the_clock_out(
    client: Client, tenant: TenantKit, runtime: Runtime
) -> None:
    await report_to(tenant, tenant.users["staff"], tenant.users["supervisor"])
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        await session.execute(update(ApprovalWorkflow).where(ApprovalWorkflow.kind == "overtime").values(active=False))
    record, _ = await overtime_record(client, tenant, runtime)
    assert await approval_of(runtime, tenant, record.id) is None
