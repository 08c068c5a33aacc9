"""Maintenance: requests on exactly one asset or workplace, SLA due times by priority (tenant hours or the
defaults), status history, comments, costs, the SLA breach job reporting once with a moved clock, other
tenants' ids, and who may do what."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import pytest
from sqlalchemy import func, select

from api.auth.permissions import BUILTIN_ROLES, Permission
from api.maintenance.jobs import SLA_JOB, maintenance_job_handlers
from api.runtime import Runtime
from persistence.models import MaintenanceRequest, Notification, NotificationRequest
from tests.api.fieldops.fieldkit import (
    Client,
    assign,
    make_asset,
    make_workplace,
    periodic_job,
    refused_without,
    tenant_dropping_jobs,
)
from tests.api.identity.arrange import Headers, refusal
from tests.api.identity.test_rbac import _APP, guarded_endpoints
from tests.kit import TenantKit

M = "/api/v1/maintenance"
REQUEST = f"{M}/{{request_id:uuid}}"
EXPECTED = {
    ("GET", M, Permission.MAINTENANCE_READ),
    ("GET", REQUEST, Permission.MAINTENANCE_READ),
    ("POST", M, Permission.MAINTENANCE_WORK),
    ("PATCH", REQUEST, Permission.MAINTENANCE_WRITE),
    ("POST", f"{REQUEST}/status", Permission.MAINTENANCE_WORK),
    ("GET", f"{REQUEST}/comments", Permission.MAINTENANCE_READ),
    ("POST", f"{REQUEST}/comments", Permission.MAINTENANCE_WORK),
    ("GET", f"{M}/sla", Permission.MAINTENANCE_READ),
    ("PUT", f"{M}/sla", Permission.MAINTENANCE_WRITE),
    ("GET", f"{M}/cost-threshold", Permission.MAINTENANCE_READ),
    ("PUT", f"{M}/cost-threshold", Permission.APPROVALS_MANAGE),
}
TABLE = sorted((m, p, perm) for m, p, perm in guarded_endpoints(_APP) if p.startswith(M))
# Alerts raised here are due at once; no later test's worker may send them.
tenant = pytest.fixture(name="tenant")(tenant_dropping_jobs)


async def raise_request(client: Client, headers: Headers, **fields: Any) -> Any:
    return await client.post(M, json={"title": "Fridge warm"} | fields, headers=headers)


async def raised(client: Client, headers: Headers, **fields: Any) -> dict[str, Any]:
    response = await raise_request(client, headers, **fields)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def move(client: Client, headers: Headers, request_id: str, status: str, note: str = "") -> Any:
    return await client.post(f"{M}/{request_id}/status", json={"status": status, "note": note}, headers=headers)


async def request_count(runtime: Runtime, tenant: TenantKit) -> int:
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        return await session.scalar(select(func.count()).select_from(MaintenanceRequest)) or 0


def hours_between(later: str, earlier: str) -> float:
    return (datetime.fromisoformat(later) - datetime.fromisoformat(earlier)).total_seconds() / 3600


async def run_sla_job(runtime: Runtime, tenant: TenantKit, at: datetime) -> None:
    """The SLA job of the slot starting ``at``, as ``fieldhub worker`` would run it."""
    handler = maintenance_job_handlers(db=runtime.db)[SLA_JOB]
    await handler(periodic_job(tenant, SLA_JOB, at))


async def breach_notices(runtime: Runtime, tenant: TenantKit, request_id: str) -> list[UUID]:
    """Who was told that ``request_id`` missed its SLA (one entry per notification)."""
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        rows = await session.scalars(
            select(Notification.user_id)
            .join(NotificationRequest, NotificationRequest.id == Notification.request_id)
            .where(NotificationRequest.idempotency_key.startswith(f"maintenance.breach:{request_id}:"))
        )
        return sorted(rows.all())


@pytest.mark.parametrize(("priority", "hours"), [("urgent", 4), ("high", 24), ("normal", 72), ("low", 168)])
async def test_a_request_is_due_by_the_default_sla_of_its_priority(
    client: Client, tenant: TenantKit, priority: str, hours: int
) -> None:
    admin = await tenant.headers(client)
    workplace = await make_workplace(client, admin)
    request = await raised(client, admin, workplace_id=workplace["id"], priority=priority)
    assert hours_between(request["due_at"], request["created_at"]) == hours
    assert [(s.get("from_status"), s["to_status"]) for s in request["history"]] == [(None, "open")]


async def test_the_tenants_own_sla_hours_apply_to_new_requests(client: Client, tenant: TenantKit) -> None:
    admin = await tenant.headers(client)
    workplace = await make_workplace(client, admin)
    before = await raised(client, admin, workplace_id=workplace["id"], priority="urgent")
    assert (await client.get(f"{M}/sla", headers=admin)).json()["is_default"] is True
    hours = {"low_hours": 100, "normal_hours": 50, "high_hours": 10, "urgent_hours": 2}
    response = await client.put(f"{M}/sla", json=hours, headers=admin)
    assert response.json() == hours | {"is_default": False}
    after = await raised(client, admin, workplace_id=workplace["id"], priority="urgent")
    assert hours_between(after["due_at"], after["created_at"]) == 2
    kept = (await client.get(f"{M}/{before['id']}", headers=admin)).json()
    assert hours_between(kept["due_at"], kept["created_at"]) == 4


async def test_sla_hours_out_of_range_are_refused(client: Client, tenant: TenantKit) -> None:
    admin = await tenant.headers(client)
    hours = {"low_hours": 100, "normal_hours": 50, "high_hours": 10, "urgent_hours": 0}
    assert refusal(await client.put(f"{M}/sla", json=hours, headers=admin)) == (400, "invalid_request")
    assert (await client.get(f"{M}/sla", headers=admin)).json()["urgent_hours"] == 4


async def test_a_new_priority_moves_the_due_time_from_the_creation(client: Client, tenant: TenantKit) -> None:
    admin = await tenant.headers(client)
    request = await raised(client, admin, workplace_id=(await make_workplace(client, admin))["id"])
    changed = await client.patch(f"{M}/{request['id']}", json={"priority": "high"}, headers=admin)
    assert changed.status_code == 200, changed.text
    assert hours_between(changed.json()["due_at"], request["created_at"]) == 24


async def test_a_request_on_an_asset_is_accepted(client: Client, tenant: TenantKit) -> None:
    admin = await tenant.headers(client)
    asset = await make_asset(client, admin, (await make_workplace(client, admin))["id"])
    request = await raised(client, await tenant.headers(client, "staff"), asset_id=asset["id"])
    assert (request["asset_id"], request.get("workplace_id"), request["requested_by"]) == (
        asset["id"],
        None,
        str(tenant.users["staff"]),
    )


async def test_a_request_names_exactly_one_target(client: Client, runtime: Runtime, tenant: TenantKit) -> None:
    admin = await tenant.headers(client)
    workplace = await make_workplace(client, admin)
    asset = await make_asset(client, admin, workplace["id"])
    for fields in ({}, {"asset_id": asset["id"], "workplace_id": workplace["id"]}):
        assert refusal(await raise_request(client, admin, **fields)) == (422, "one_target_required")
    assert await request_count(runtime, tenant) == 0


async def test_another_tenants_asset_workplace_or_assignee_is_not_found(
    client: Client, runtime: Runtime, tenant: TenantKit, other_tenant: TenantKit
) -> None:
    theirs = await other_tenant.headers(client)
    their_workplace = await make_workplace(client, theirs)
    their_asset = await make_asset(client, theirs, their_workplace["id"])
    admin = await tenant.headers(client)
    mine = await make_workplace(client, admin)
    for fields in (
        {"asset_id": their_asset["id"]},
        {"workplace_id": their_workplace["id"]},
        {"workplace_id": mine["id"], "assignee_id": str(other_tenant.users["staff"])},
    ):
        assert refusal(await raise_request(client, admin, **fields)) == (404, "not_found"), fields
    assert await request_count(runtime, tenant) == 0


@pytest.mark.parametrize("cost", ["-1", "12.345", "NaN", "1e20"])
async def test_a_bad_estimated_cost_is_refused(client: Client, runtime: Runtime, tenant: TenantKit, cost: str) -> None:
    admin = await tenant.headers(client)
    workplace = await make_workplace(client, admin)
    refused = await raise_request(client, admin, workplace_id=workplace["id"], estimated_cost=cost)
    assert refusal(refused) == (422, "invalid_cost")
    assert await request_count(runtime, tenant) == 0


async def test_the_estimated_cost_is_kept_to_the_cent(client: Client, tenant: TenantKit) -> None:
    admin = await tenant.headers(client)
    request = await raised(
        client, admin, workplace_id=(await make_workplace(client, admin))["id"], estimated_cost=120.5
    )
    assert request["estimated_cost"] == "120.50"
    read = (await client.get(f"{M}/{request['id']}", headers=admin)).json()
    assert read["estimated_cost"] == "120.50"


async def test_the_assignee_is_notified(client: Client, runtime: Runtime, tenant: TenantKit) -> None:
    admin = await tenant.headers(client)
    request = await raised(
        client, admin, workplace_id=(await make_workplace(client, admin))["id"], assignee_id=str(tenant.users["staff"])
    )
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        told = await session.scalars(
            select(Notification.user_id).where(Notification.data["maintenance_id"].astext == request["id"])
        )
        assert list(told.all()) == [tenant.users["staff"]]


async def test_the_assignee_works_the_request_through_its_statuses(client: Client, tenant: TenantKit) -> None:
    admin = await tenant.headers(client)
    request = await raised(
        client, admin, workplace_id=(await make_workplace(client, admin))["id"], assignee_id=str(tenant.users["staff"])
    )
    staff = await tenant.headers(client, "staff")
    for status, note in (
        ("in_progress", "On site"),
        ("on_hold", "Part ordered"),
        ("in_progress", ""),
        ("resolved", "Fixed"),
    ):
        moved = await move(client, staff, request["id"], status, note)
        assert (moved.status_code, moved.json()["status"]) == (200, status), moved.text
    assert moved.json()["resolved_at"] is not None
    closed = await move(client, admin, request["id"], "closed", "Checked")
    history = closed.json()["history"]
    assert [(s.get("from_status"), s["to_status"]) for s in history] == [
        (None, "open"),
        ("open", "in_progress"),
        ("in_progress", "on_hold"),
        ("on_hold", "in_progress"),
        ("in_progress", "resolved"),
        ("resolved", "closed"),
    ]
    assert history[2]["note"] == "Part ordered"
    assert closed.json()["closed_at"] == history[-1]["at"]


async def test_a_step_not_allowed_is_refused_and_changes_nothing(client: Client, tenant: TenantKit) -> None:
    admin = await tenant.headers(client)
    request = await raised(client, admin, workplace_id=(await make_workplace(client, admin))["id"])
    refused = await move(client, admin, request["id"], "closed")
    assert refusal(refused) == (409, "invalid_transition")
    assert refused.json()["error"]["details"]["allowed"] == ["in_progress", "on_hold", "resolved", "cancelled"]
    await move(client, admin, request["id"], "cancelled")
    assert refusal(await move(client, admin, request["id"], "in_progress")) == (409, "invalid_transition")
    assert (await client.get(f"{M}/{request['id']}", headers=admin)).json()["status"] == "cancelled"


async def test_staff_move_only_the_requests_assigned_to_them(client: Client, tenant: TenantKit) -> None:
    admin = await tenant.headers(client)
    request = await raised(
        client,
        admin,
        workplace_id=(await make_workplace(client, admin))["id"],
        assignee_id=str(tenant.users["moderator"]),
    )
    refused = await move(client, await tenant.headers(client, "staff"), request["id"], "in_progress")
    assert refusal(refused) == (403, "not_your_request")
    assert (await client.get(f"{M}/{request['id']}", headers=admin)).json()["status"] == "open"


async def test_comments_are_listed_oldest_first(client: Client, tenant: TenantKit) -> None:
    admin = await tenant.headers(client)
    request = await raised(client, admin, workplace_id=(await make_workplace(client, admin))["id"])
    staff = await tenant.headers(client, "staff")
    for body in ("Compressor noisy", "Technician booked"):
        added = await client.post(f"{M}/{request['id']}/comments", json={"body": body}, headers=staff)
        assert added.status_code == 201, added.text
    listed = (await client.get(f"{M}/{request['id']}/comments", headers=admin)).json()
    assert [(c["body"], c["author_id"]) for c in listed["items"]] == [
        ("Compressor noisy", str(tenant.users["staff"])),
        ("Technician booked", str(tenant.users["staff"])),
    ]
    assert refusal(await client.post(f"{M}/{request['id']}/comments", json={"body": ""}, headers=staff)) == (
        400,
        "invalid_request",
    )


async def test_requests_are_filtered_by_status_priority_assignee_and_target(client: Client, tenant: TenantKit) -> None:
    admin = await tenant.headers(client)
    store = await make_workplace(client, admin)
    asset = await make_asset(client, admin, store["id"])
    urgent = await raised(
        client, admin, workplace_id=store["id"], priority="urgent", assignee_id=str(tenant.users["staff"])
    )
    on_asset = await raised(client, admin, asset_id=asset["id"])
    await move(client, admin, on_asset["id"], "in_progress")

    async def ids(**query: Any) -> list[str]:
        response = await client.get(M, params=query, headers=admin)
        assert response.status_code == 200, response.text
        return [r["id"] for r in response.json()["items"]]

    assert await ids() == [urgent["id"], on_asset["id"]]
    assert await ids(priority="urgent") == [urgent["id"]]
    assert await ids(status="in_progress") == [on_asset["id"]]
    assert await ids(assignee_id=str(tenant.users["staff"])) == [urgent["id"]]
    assert await ids(asset_id=asset["id"]) == [on_asset["id"]]
    assert await ids(workplace_id=store["id"]) == [urgent["id"]]


async def test_another_tenants_request_is_not_found(client: Client, tenant: TenantKit, other_tenant: TenantKit) -> None:
    theirs = await other_tenant.headers(client)
    request = await raised(client, theirs, workplace_id=(await make_workplace(client, theirs))["id"])
    mine = await tenant.headers(client)
    url = f"{M}/{request['id']}"
    for response in (
        await client.get(url, headers=mine),
        await client.patch(url, json={"title": "mine"}, headers=mine),
        await move(client, mine, request["id"], "in_progress"),
        await client.get(f"{url}/comments", headers=mine),
        await client.post(f"{url}/comments", json={"body": "hi"}, headers=mine),
    ):
        assert refusal(response) == (404, "not_found")
    assert (await client.get(url, headers=theirs)).json()["status"] == "open"


async def test_a_missed_sla_notifies_the_assignee_and_the_supervisor_once(
    client: Client, runtime: Runtime, tenant: TenantKit
) -> None:
    admin = await tenant.headers(client)
    workplace = await make_workplace(client, admin)
    await assign(client, admin, workplace["id"], tenant.users["supervisor"], role="supervisor")
    asset = await make_asset(client, admin, workplace["id"])
    request = await raised(
        client, admin, asset_id=asset["id"], priority="urgent", assignee_id=str(tenant.users["staff"])
    )
    due = datetime.fromisoformat(request["due_at"])
    await run_sla_job(runtime, tenant, due - timedelta(minutes=5))
    assert await breach_notices(runtime, tenant, request["id"]) == []
    await run_sla_job(runtime, tenant, due + timedelta(minutes=5))
    await run_sla_job(runtime, tenant, due + timedelta(minutes=10))
    assert await breach_notices(runtime, tenant, request["id"]) == sorted(
        [tenant.users["staff"], tenant.users["supervisor"]]
    )
    read = (await client.get(f"{M}/{request['id']}", headers=admin)).json()
    assert datetime.fromisoformat(read["breached_at"]) == due + timedelta(minutes=5)
    breached = (await client.get(M, params={"breached": True}, headers=admin)).json()
    assert [r["id"] for r in breached["items"]] == [request["id"]]


async def test_a_new_due_time_can_breach_again_once(client: Client, runtime: Runtime, tenant: TenantKit) -> None:
    admin = await tenant.headers(client)
    request = await raised(
        client,
        admin,
        workplace_id=(await make_workplace(client, admin))["id"],
        priority="urgent",
        assignee_id=str(tenant.users["staff"]),
    )
    first_due = datetime.fromisoformat(request["due_at"])
    await run_sla_job(runtime, tenant, first_due + timedelta(minutes=1))
    moved = (await client.patch(f"{M}/{request['id']}", json={"priority": "high"}, headers=admin)).json()
    assert moved.get("breached_at") is None
    second_due = datetime.fromisoformat(moved["due_at"])
    await run_sla_job(runtime, tenant, second_due + timedelta(minutes=1))
    await run_sla_job(runtime, tenant, second_due + timedelta(minutes=2))
    assert await breach_notices(runtime, tenant, request["id"]) == [tenant.users["staff"]] * 2


async def test_a_resolved_request_does_not_breach(client: Client, runtime: Runtime, tenant: TenantKit) -> None:
    admin = await tenant.headers(client)
    request = await raised(
        client,
        admin,
        workplace_id=(await make_workplace(client, admin))["id"],
        priority="urgent",
        assignee_id=str(tenant.users["staff"]),
    )
    await move(client, admin, request["id"], "resolved", "Quick fix")
    await run_sla_job(runtime, tenant, datetime.fromisoformat(request["due_at"]) + timedelta(hours=1))
    assert await breach_notices(runtime, tenant, request["id"]) == []


def test_staff_raise_and_work_requests_and_supervisors_manage_them() -> None:
    staff = BUILTIN_ROLES["staff"][1]
    assert {Permission.MAINTENANCE_READ, Permission.MAINTENANCE_WORK} <= staff
    assert Permission.MAINTENANCE_WRITE not in staff
    assert Permission.MAINTENANCE_WRITE in BUILTIN_ROLES["supervisor"][1]


def test_each_maintenance_endpoint_requires_the_intended_permission() -> None:
    assert set(TABLE) == EXPECTED


@pytest.mark.parametrize(("method", "path", "permission"), TABLE, ids=[f"{m} {p}" for m, p, _ in TABLE])
async def test_endpoint_refuses_a_caller_lacking_its_permission(
    client: Client,
    rbac_tenant: TenantKit,
    signed_in: dict[frozenset[str], Headers],
    method: str,
    path: str,
    permission: Permission,
) -> None:
    assert await refused_without(client, rbac_tenant, signed_in, method, path, permission) == (403, "forbidden")
