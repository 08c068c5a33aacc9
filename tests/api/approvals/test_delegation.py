"""Delegation: a delegate decides on the approver's behalf (and is asked in their place), only within its range
(also on a moved clock); never to oneself, never in a ring over the same time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from api.approvals.schemas import Step
from api.approvals.services import flow
from api.approvals.services.timeouts import SweepReport, sweep
from api.errors import AppError
from tests.api.approvals.arrange import (
    Headers,
    Team,
    approvers,
    decide,
    events,
    notifications,
    set_workflow,
    submit_request,
)
from tests.api.identity.arrange import refusal

Client = AsyncTestClient[Litestar]
MANAGER = Step(name="Manager", rule="manager")


def _range(start_days: float = -1, end_days: float = 7) -> dict[str, str]:
    now = datetime.now(UTC)
    return {
        "starts_at": (now + timedelta(days=start_days)).isoformat(),
        "ends_at": (now + timedelta(days=end_days)).isoformat(),
    }


async def _delegate(client: Client, headers: Headers, delegate_id: Any, **dates: float) -> Any:
    return await client.post(
        "/api/v1/approvals/delegations", json={"delegate_id": str(delegate_id), **_range(**dates)}, headers=headers
    )


async def test_a_delegate_decides_on_the_approvers_behalf(client: Client, team: Team) -> None:
    created = await _delegate(client, await team.headers(client, "manager"), team.head)
    assert created.status_code == 201, created.text
    await set_workflow(team.kit, "purchase", MANAGER)
    request_id = await submit_request(team.kit, team.requester)
    assert len(await notifications(team.kit, team.head, request_id)) == 1  # asked in the manager's place
    response = await decide(client, await team.headers(client, "head"), request_id)
    assert response.json()["status"] == "approved"
    [seat] = await approvers(team.kit, request_id)
    assert (seat.approver_id, seat.acted_by, seat.decision) == (team.manager, team.head, "approved")
    decided = [e for e in await events(team.kit, request_id) if e.kind == "approved"]
    assert [(e.actor_id, e.on_behalf_of) for e in decided] == [(team.head, team.manager)]


async def test_a_delegation_outside_its_range_gives_nothing(client: Client, team: Team) -> None:
    await _delegate(client, await team.headers(client, "manager"), team.head, start_days=1, end_days=3)
    await set_workflow(team.kit, "purchase", MANAGER)
    request_id = await submit_request(team.kit, team.requester)
    response = await decide(client, await team.headers(client, "head"), request_id)
    assert refusal(response) == (403, "not_an_approver")


async def test_a_revoked_delegation_gives_nothing(client: Client, team: Team) -> None:
    manager = await team.headers(client, "manager")
    created = await _delegate(client, manager, team.head)
    revoked = await client.delete(f"/api/v1/approvals/delegations/{created.json()['id']}", headers=manager)
    assert revoked.status_code == 204
    await set_workflow(team.kit, "purchase", MANAGER)
    request_id = await submit_request(team.kit, team.requester)
    assert refusal(await decide(client, await team.headers(client, "head"), request_id)) == (403, "not_an_approver")


async def test_delegating_to_oneself_is_refused(client: Client, team: Team) -> None:
    response = await _delegate(client, await team.headers(client, "manager"), team.manager)
    assert refusal(response) == (422, "self_delegation")


async def test_a_delegation_back_over_the_same_time_is_a_loop(client: Client, team: Team) -> None:
    assert (await _delegate(client, await team.headers(client, "manager"), team.head)).status_code == 201
    back = await _delegate(client, await team.headers(client, "head"), team.manager, start_days=2, end_days=9)
    assert refusal(back) == (409, "delegation_loop")
    listed = await client.get("/api/v1/approvals/delegations", headers=await team.headers(client, "head"))
    assert listed.json()["total"] == 1


async def test_a_longer_ring_is_a_loop_too(client: Client, team: Team) -> None:
    await _delegate(client, await team.headers(client, "manager"), team.head)
    await _delegate(client, await team.headers(client, "head"), team.director)
    ring = await _delegate(client, await team.headers(client, "director"), team.manager)
    assert refusal(ring) == (409, "delegation_loop")


async def test_a_delegation_back_at_another_time_is_fine(client: Client, team: Team) -> None:
    await _delegate(client, await team.headers(client, "manager"), team.head, start_days=-1, end_days=2)
    later = await _delegate(client, await team.headers(client, "head"), team.manager, start_days=3, end_days=5)
    assert later.status_code == 201, later.text


async def test_a_delegate_of_another_tenant_is_not_found(client: Client, team: Team, other_tenant: Any) -> None:
    response = await _delegate(client, await team.headers(client, "manager"), other_tenant.users["staff"])
    assert refusal(response) == (404, "not_found")


async def test_on_a_moved_clock_a_later_delegation_counts_only_once_it_has_begun(client: Client, team: Team) -> None:
    created = await _delegate(client, await team.headers(client, "manager"), team.head, start_days=2, end_days=9)
    assert created.status_code == 201, created.text
    await set_workflow(team.kit, "purchase", MANAGER)
    t0 = datetime.now(UTC)
    request_id = await submit_request(team.kit, team.requester, now=t0)
    async with team.kit.runtime.db.transaction(tenant_id=team.kit.id) as session:
        with pytest.raises(AppError) as before:
            await flow.decide(session, request_id=request_id, actor_id=team.head, decision="approve", now=t0)
    assert (before.value.status_code, before.value.code) == (403, "not_an_approver")
    async with team.kit.runtime.db.transaction(tenant_id=team.kit.id) as session:
        request = await flow.decide(
            session, request_id=request_id, actor_id=team.head, decision="approve", now=t0 + timedelta(days=3)
        )
        assert request.status == "approved"
    decided = [e for e in await events(team.kit, request_id) if e.kind == "approved"]
    assert [(e.actor_id, e.on_behalf_of) for e in decided] == [(team.head, team.manager)]


async def test_on_a_moved_clock_the_reminder_reaches_a_delegate_whose_range_has_begun(
    client: Client, team: Team
) -> None:
    await _delegate(client, await team.headers(client, "manager"), team.head, start_days=2, end_days=9)
    await set_workflow(team.kit, "purchase", Step(name="Manager", rule="manager", timeout_seconds=3 * 86400))
    t0 = datetime.now(UTC)
    request_id = await submit_request(team.kit, team.requester, now=t0)
    assert await notifications(team.kit, team.head, request_id) == []  # not asked before the range
    async with team.kit.runtime.db.transaction(tenant_id=team.kit.id) as session:
        assert await sweep(session, t0 + timedelta(days=3, seconds=1)) == SweepReport(reminded=1)
    [reminder] = await notifications(team.kit, team.head, request_id)
    assert reminder.data["reason"] == "reminder"
    assert [a["id"] for a in reminder.actions] == ["approve", "reject"]
