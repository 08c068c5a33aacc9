"""Workflow administration: the defaults every tenant starts with, creating and changing workflows, checked steps,
and the approvals endpoints' permissions."""

from __future__ import annotations

from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient

from api.approvals.schemas import Step
from api.auth.permissions import Permission
from tests.api.approvals.arrange import Team, load, set_workflow, submit_request
from tests.api.identity.arrange import refusal
from tests.api.identity.test_rbac import _APP, guarded_endpoints
from tests.kit import TenantKit

Client = AsyncTestClient[Litestar]
A = "/api/v1/approvals"
W, D, R = f"{A}/workflows", f"{A}/delegations", f"{A}/{{request_id:uuid}}"
EXPECTED = {
    ("GET", W, Permission.APPROVALS_MANAGE),
    ("POST", W, Permission.APPROVALS_MANAGE),
    ("GET", f"{W}/{{workflow_id:uuid}}", Permission.APPROVALS_MANAGE),
    ("PATCH", f"{W}/{{workflow_id:uuid}}", Permission.APPROVALS_MANAGE),
    ("DELETE", f"{W}/{{workflow_id:uuid}}", Permission.APPROVALS_MANAGE),
    ("GET", D, Permission.APPROVALS_USE),
    ("POST", D, Permission.APPROVALS_USE),
    ("DELETE", f"{D}/{{delegation_id:uuid}}", Permission.APPROVALS_USE),
    ("GET", A, Permission.APPROVALS_USE),
    ("POST", A, Permission.APPROVALS_USE),
    ("GET", R, Permission.APPROVALS_USE),
    ("POST", f"{R}/decisions", Permission.APPROVALS_USE),
    ("POST", f"{R}/cancel", Permission.APPROVALS_USE),
    ("POST", f"{R}/resubmit", Permission.APPROVALS_USE),
    ("POST", f"{R}/comments", Permission.APPROVALS_USE),
    # The signed link is the credential: no session, no permission.
    ("GET", f"{A}/actions/{{token:str}}", None),
    ("POST", f"{A}/actions/{{token:str}}", None),
}
STEP = {"name": "Manager", "rule": "manager", "quorum": "any", "timeout_seconds": 3600}


def test_each_approvals_endpoint_requires_the_intended_permission() -> None:
    assert {(m, p, perm) for m, p, perm in guarded_endpoints(_APP) if p.startswith(A)} == EXPECTED


async def test_a_new_tenant_has_a_workflow_for_each_built_in_kind(client: Client, tenant: TenantKit) -> None:
    response = await client.get("/api/v1/approvals/workflows", headers=await tenant.headers(client, "admin"))
    kinds = {w["kind"]: [s["rule"] for s in w["steps"]] for w in response.json()["items"]}
    assert kinds == {
        "attendance_correction": ["manager"],
        "leave": ["manager"],
        "maintenance_cost": ["manager", "department_head"],
        "overtime": ["manager"],
    }


async def test_an_admin_creates_and_changes_a_workflow(client: Client, tenant: TenantKit) -> None:
    admin = await tenant.headers(client, "admin")
    created = await client.post(W, json={"kind": "purchase", "name": "Purchases", "steps": [STEP]}, headers=admin)
    assert created.status_code == 201, created.text
    changed = await client.patch(
        f"{W}/{created.json()['id']}",
        json={"steps": [STEP, {**STEP, "name": "Admins", "rule": "role", "role": "admin", "quorum": "all"}]},
        headers=admin,
    )
    assert [s["rule"] for s in changed.json()["steps"]] == ["manager", "role"]


async def test_requests_in_flight_keep_their_steps(client: Client, team: Team) -> None:
    await set_workflow(team.kit, "purchase", Step(name="Manager", rule="manager"))
    request_id = await submit_request(team.kit, team.requester)
    await set_workflow(team.kit, "purchase", Step(name="Head", rule="department_head"), Step(name="M", rule="manager"))
    assert [s["rule"] for s in (await load(team.kit, request_id)).steps] == ["manager"]


async def _refused(client: Client, tenant: TenantKit, body: dict[str, Any]) -> tuple[int, str | None]:
    return refusal(await client.post(W, json=body, headers=await tenant.headers(client, "admin")))


async def test_a_step_naming_an_unknown_role_is_refused(client: Client, tenant: TenantKit) -> None:
    body = {"kind": "purchase", "name": "P", "steps": [{**STEP, "rule": "role", "role": "astronaut"}]}
    assert await _refused(client, tenant, body) == (422, "invalid_step")


async def test_a_step_naming_a_user_of_another_tenant_is_refused(
    client: Client, tenant: TenantKit, other_tenant: TenantKit
) -> None:
    body = {
        "kind": "purchase",
        "name": "P",
        "steps": [{**STEP, "rule": "users", "user_ids": [str(other_tenant.users["admin"])]}],
    }
    assert await _refused(client, tenant, body) == (422, "invalid_step")


async def test_a_second_workflow_for_a_kind_is_a_conflict(client: Client, tenant: TenantKit) -> None:
    assert await _refused(client, tenant, {"kind": "leave", "name": "Again", "steps": [STEP]}) == (409, "conflict")


async def test_staff_cannot_manage_workflows(client: Client, tenant: TenantKit) -> None:
    response = await client.get(W, headers=await tenant.headers(client, "staff"))
    assert refusal(response) == (403, "forbidden")


async def test_another_tenants_workflow_is_not_found(
    client: Client, tenant: TenantKit, other_tenant: TenantKit
) -> None:
    theirs = await client.get(W, headers=await other_tenant.headers(client, "admin"))
    workflow_id = theirs.json()["items"][0]["id"]
    admin = await tenant.headers(client, "admin")
    assert refusal(await client.get(f"{W}/{workflow_id}", headers=admin)) == (404, "not_found")
    assert refusal(await client.delete(f"{W}/{workflow_id}", headers=admin)) == (404, "not_found")
