"""Attendance corrections people ask for on their own entries go to approval: nothing changes until the manager
approves; rejected, the entry stays as it was and the person is told; someone else's or another tenant's entry is
not found; a supervisor corrects others directly but never their own entry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import select

from api.runtime import Runtime
from persistence.models import ApprovalRequest, AttendanceRecord, AuditEvent, Notification
from tests.api.fieldops.fieldkit import Client, report_to, stay
from tests.api.fieldops.test_attendance_api import staffed_workplace
from tests.api.fieldops.test_field_approvals import decide
from tests.api.identity.arrange import Headers, refusal
from tests.kit import TenantKit

START = datetime(2026, 1, 14, 8, tzinfo=UTC)
BODY = {"clock_out_at": "2026-01-14T17:30:00Z", "reason": "Forgot to clock out"}


async def ask(client: Client, headers: Headers, attendance_id: Any, body: dict[str, Any] | None = None) -> Any:
    return await client.post(
        f"/api/v1/attendance/{attendance_id}/correction-requests", json=body or BODY, headers=headers
    )


async def staff_entry(client: Client, tenant: TenantKit) -> tuple[UUID, Headers]:
    """An eight-hour stay of the staff member, who reports to the supervisor; its id and the staff's headers."""
    await report_to(tenant, tenant.users["staff"], tenant.users["supervisor"])
    workplace_id, staff = await staffed_workplace(client, tenant)
    entry = await stay(tenant, tenant.users["staff"], workplace_id, START, START + timedelta(hours=8))
    return entry, staff


async def asked(client: Client, tenant: TenantKit) -> tuple[UUID, dict[str, Any]]:
    entry, staff = await staff_entry(client, tenant)
    response = await ask(client, staff, entry)
    assert response.status_code == 202, response.text
    created: dict[str, Any] = response.json()
    return entry, created


async def entry_times(runtime: Runtime, tenant: TenantKit, entry: UUID) -> tuple[datetime, datetime | None]:
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        row = await session.get_one(AttendanceRecord, entry)
        return row.clock_in_at, row.clock_out_at


async def test_a_requested_correction_waits_for_the_managers_approval_and_changes_nothing(
    client: Client, tenant: TenantKit, runtime: Runtime
) -> None:
    entry, created = await asked(client, tenant)
    assert (created["status"], created["attendance_id"], created["clock_out_at"]) == (
        "pending",
        str(entry),
        "2026-01-14T17:30:00Z",
    )
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        approval = await session.get_one(ApprovalRequest, UUID(created["approval_request_id"]))
    assert (approval.kind, approval.status, str(approval.subject_id)) == (
        "attendance_correction",
        "pending",
        created["id"],
    )
    waiting = await client.get(
        "/api/v1/approvals", params={"scope": "to_decide"}, headers=await tenant.headers(client, "supervisor")
    )
    assert [r["id"] for r in waiting.json()["items"]] == [created["approval_request_id"]]
    assert await entry_times(runtime, tenant, entry) == (START, START + timedelta(hours=8))


async def test_an_approved_correction_is_applied_to_the_entry_and_audited(
    client: Client, tenant: TenantKit, runtime: Runtime
) -> None:
    entry, created = await asked(client, tenant)
    supervisor = await tenant.headers(client, "supervisor")
    response = await decide(client, supervisor, UUID(created["approval_request_id"]), "approve")
    assert response.status_code == 200, response.text
    assert await entry_times(runtime, tenant, entry) == (START, datetime(2026, 1, 14, 17, 30, tzinfo=UTC))
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        audit = await session.scalar(select(AuditEvent).where(AuditEvent.action == "attendance.correct"))
    assert audit is not None
    assert (audit.actor_user_id, audit.details["correction_id"]) == (tenant.users["supervisor"], created["id"])


async def test_a_rejected_correction_changes_nothing_and_the_person_is_told(
    client: Client, tenant: TenantKit, runtime: Runtime
) -> None:
    entry, created = await asked(client, tenant)
    supervisor = await tenant.headers(client, "supervisor")
    response = await decide(client, supervisor, UUID(created["approval_request_id"]), "reject")
    assert response.status_code == 200, response.text
    assert await entry_times(runtime, tenant, entry) == (START, START + timedelta(hours=8))
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        told = (
            await session.scalars(select(Notification.title).where(Notification.user_id == tenant.users["staff"]))
        ).all()
    assert "Attendance correction rejected: entry of 2026-01-14" in told


async def test_a_cancelled_correction_changes_nothing(client: Client, tenant: TenantKit, runtime: Runtime) -> None:
    entry, created = await asked(client, tenant)
    staff = await tenant.headers(client, "staff")
    cancelled = await client.post(f"/api/v1/approvals/{created['approval_request_id']}/cancel", headers=staff)
    assert cancelled.status_code == 200, cancelled.text
    assert await entry_times(runtime, tenant, entry) == (START, START + timedelta(hours=8))


async def test_someone_elses_entry_cannot_be_asked_for(client: Client, tenant: TenantKit, runtime: Runtime) -> None:
    workplace_id, _ = await staffed_workplace(client, tenant)
    theirs = await stay(tenant, tenant.users["supervisor"], workplace_id, START, START + timedelta(hours=8))
    response = await ask(client, await tenant.headers(client, "staff"), theirs)
    assert refusal(response) == (404, "not_found")
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        assert (await session.scalars(select(ApprovalRequest))).all() == []


async def test_another_tenants_entry_cannot_be_asked_for(
    client: Client, tenant: TenantKit, other_tenant: TenantKit
) -> None:
    workplace_id, _ = await staffed_workplace(client, other_tenant)
    theirs = await stay(other_tenant, other_tenant.users["staff"], workplace_id, START, START + timedelta(hours=8))
    response = await ask(client, await tenant.headers(client, "staff"), theirs)
    assert refusal(response) == (404, "not_found")


async def test_a_bad_correction_is_refused_before_it_goes_to_approval(
    client: Client, tenant: TenantKit, runtime: Runtime
) -> None:
    entry, staff = await staff_entry(client, tenant)
    backwards = await ask(client, staff, entry, {"clock_out_at": "2026-01-14T07:00:00Z", "reason": "Wrong"})
    assert refusal(backwards) == (422, "invalid_range")
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        assert (await session.scalars(select(ApprovalRequest))).all() == []


async def test_a_second_correction_of_an_entry_waits_for_the_first(client: Client, tenant: TenantKit) -> None:
    entry, _ = await asked(client, tenant)
    again = await ask(client, await tenant.headers(client, "staff"), entry)
    assert refusal(again) == (409, "correction_pending")


async def test_a_supervisor_cannot_correct_their_own_entry_directly(
    client: Client, tenant: TenantKit, runtime: Runtime
) -> None:
    workplace_id, _ = await staffed_workplace(client, tenant)
    own = await stay(tenant, tenant.users["supervisor"], workplace_id, START, START + timedelta(hours=8))
    response = await client.post(
        f"/api/v1/attendance/{own}/corrections", json=BODY, headers=await tenant.headers(client, "supervisor")
    )
    assert refusal(response) == (403, "own_entry")
    assert await entry_times(runtime, tenant, own) == (START, START + timedelta(hours=8))
