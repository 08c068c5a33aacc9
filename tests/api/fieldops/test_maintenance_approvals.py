"""Maintenance over the tenant's cost threshold waits for approval before work starts: approved it opens,
rejected it ends rejected; under the threshold (or with none set) nothing changes; only approval managers set
the threshold."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import pytest
from sqlalchemy import select

from api.runtime import Runtime
from persistence.models import ApprovalRequest
from tests.api.fieldops.fieldkit import Client, make_workplace, report_to, tenant_dropping_jobs
from tests.api.fieldops.test_field_approvals import approval_of, decide
from tests.api.identity.arrange import Headers, refusal
from tests.kit import TenantKit

M = "/api/v1/maintenance"
tenant = pytest.fixture(name="tenant")(tenant_dropping_jobs)


async def with_threshold(client: Client, tenant: TenantKit, threshold: str | None) -> Any:
    return await client.put(f"{M}/cost-threshold", json={"threshold": threshold}, headers=await tenant.headers(client))


async def raised_by_staff(client: Client, tenant: TenantKit, cost: str) -> tuple[dict[str, Any], Headers]:
    """A request costing ``cost`` raised by the staff member, who reports to the supervisor."""
    await report_to(tenant, tenant.users["staff"], tenant.users["supervisor"])
    workplace = await make_workplace(client, await tenant.headers(client))
    staff = await tenant.headers(client, "staff")
    body = {"title": "New compressor", "workplace_id": workplace["id"], "estimated_cost": cost}
    response = await client.post(M, json=body, headers=staff)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created, staff


async def approve_every_step(client: Client, tenant: TenantKit, runtime: Runtime, request_id: str) -> None:
    """The default workflow asks the manager, then the department head (skipped when there is none)."""
    approval = await approval_of(runtime, tenant, request_id)
    assert approval is not None
    response = await decide(client, await tenant.headers(client, "supervisor"), approval.id, "approve")
    assert response.status_code == 200, response.text


async def test_a_request_over_the_threshold_waits_for_approval(
    client: Client, tenant: TenantKit, runtime: Runtime
) -> None:
    assert (await with_threshold(client, tenant, "500.00")).json() == {"threshold": "500.00"}
    created, _ = await raised_by_staff(client, tenant, "500.01")
    assert created["status"] == "pending_approval"
    approval = await approval_of(runtime, tenant, created["id"])
    assert approval is not None
    assert (approval.kind, approval.status, approval.requester_id) == (
        "maintenance_cost",
        "pending",
        tenant.users["staff"],
    )


async def test_an_approved_costly_request_opens(client: Client, tenant: TenantKit, runtime: Runtime) -> None:
    await with_threshold(client, tenant, "500")
    created, staff = await raised_by_staff(client, tenant, "1200")
    await approve_every_step(client, tenant, runtime, created["id"])
    detail = (await client.get(f"{M}/{created['id']}", headers=staff)).json()
    assert detail["status"] == "open"
    assert [(s.get("from_status"), s["to_status"]) for s in detail["history"]] == [
        (None, "pending_approval"),
        ("pending_approval", "open"),
    ]


async def test_a_rejected_costly_request_ends_rejected(client: Client, tenant: TenantKit, runtime: Runtime) -> None:
    await with_threshold(client, tenant, "500")
    created, staff = await raised_by_staff(client, tenant, "1200")
    approval = await approval_of(runtime, tenant, created["id"])
    assert approval is not None
    response = await decide(client, await tenant.headers(client, "supervisor"), approval.id, "reject")
    assert response.status_code == 200, response.text
    detail = (await client.get(f"{M}/{created['id']}", headers=staff)).json()
    assert detail["status"] == "rejected"
    supervisor = await tenant.headers(client, "supervisor")
    started = await client.post(f"{M}/{created['id']}/status", json={"status": "in_progress"}, headers=supervisor)
    assert refusal(started) == (409, "invalid_transition")


async def test_a_request_at_the_threshold_opens_at_once(client: Client, tenant: TenantKit, runtime: Runtime) -> None:
    await with_threshold(client, tenant, "500")
    created, _ = await raised_by_staff(client, tenant, "500.00")
    assert created["status"] == "open"
    assert await approval_of(runtime, tenant, created["id"]) is None


async def test_without_a_threshold_no_request_goes_to_approval(
    client: Client, tenant: TenantKit, runtime: Runtime
) -> None:
    created, _ = await raised_by_staff(client, tenant, "99999")
    assert created["status"] == "open"
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        assert (await session.scalars(select(ApprovalRequest))).all() == []


async def test_raising_an_open_requests_cost_over_the_threshold_sends_it_to_approval(
    client: Client, tenant: TenantKit, runtime: Runtime
) -> None:
    await with_threshold(client, tenant, "500")
    created, _ = await raised_by_staff(client, tenant, "100")
    await report_to(tenant, tenant.users["supervisor"], tenant.users["admin"])
    supervisor = await tenant.headers(client, "supervisor")
    changed = await client.patch(f"{M}/{created['id']}", json={"estimated_cost": "800"}, headers=supervisor)
    assert changed.json()["status"] == "pending_approval", changed.text
    approval = await approval_of(runtime, tenant, created["id"])
    assert approval is not None
    assert approval.requester_id == tenant.users["supervisor"]


async def test_cancelling_a_waiting_request_cancels_its_approval_request(
    client: Client, tenant: TenantKit, runtime: Runtime
) -> None:
    await with_threshold(client, tenant, "500")
    created, _ = await raised_by_staff(client, tenant, "900")
    supervisor = await tenant.headers(client, "supervisor")
    moved = await client.post(f"{M}/{created['id']}/status", json={"status": "cancelled"}, headers=supervisor)
    assert moved.json()["status"] == "cancelled", moved.text
    approval = await approval_of(runtime, tenant, UUID(created["id"]))
    assert approval is not None
    assert approval.status == "cancelled"


async def test_a_maintenance_manager_cannot_set_the_threshold(client: Client, tenant: TenantKit) -> None:
    response = await client.put(
        f"{M}/cost-threshold", json={"threshold": "100000"}, headers=await tenant.headers(client, "supervisor")
    )
    assert refusal(response) == (403, "forbidden")
    read = await client.get(f"{M}/cost-threshold", headers=await tenant.headers(client, "staff"))
    assert read.json() == {"threshold": None}


async def test_a_negative_threshold_is_refused(client: Client, tenant: TenantKit) -> None:
    assert refusal(await with_threshold(client, tenant, "-1")) == (422, "invalid_cost")
