"""Bad input gets its documented error and changes nothing: one's own request, not an approver, after the end,
twice, reserved kinds, no workflow or approvers, another tenant's ids; and two approvers at once, one winner."""

from __future__ import annotations

import asyncio
from uuid import UUID

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import text

from api.approvals.schemas import Step
from api.approvals.services import flow
from api.errors import AppError
from tests.api.approvals.arrange import Team, approvers, decide, events, load, set_workflow, submit_request
from tests.api.identity.arrange import refusal
from tests.kit import TenantKit, eventually

Client = AsyncTestClient[Litestar]
MANAGER = Step(name="Manager", rule="manager")
PAIR_ANY = Step(name="Pair", rule="users", quorum="any")


async def _unchanged(team: Team, request_id: UUID, history: int) -> None:
    request = await load(team.kit, request_id)
    assert (request.status, request.version) == ("pending", 1)
    assert [a.decision for a in await approvers(team.kit, request_id)] == [None]
    assert len(await events(team.kit, request_id)) == history


async def test_approving_ones_own_request_is_refused(client: Client, team: Team) -> None:
    # The requester is even named as an approver: the rule leaves them out, the decision refuses them.
    await set_workflow(team.kit, "purchase", Step(name="Two", rule="users", user_ids=[team.requester, team.manager]))
    request_id = await submit_request(team.kit, team.requester)
    history = len(await events(team.kit, request_id))
    response = await decide(client, await team.headers(client, "requester"), request_id)
    assert refusal(response) == (403, "own_request")
    await _unchanged(team, request_id, history)


async def test_someone_who_is_not_an_approver_is_refused(client: Client, team: Team) -> None:
    await set_workflow(team.kit, "purchase", MANAGER)
    request_id = await submit_request(team.kit, team.requester)
    history = len(await events(team.kit, request_id))
    response = await decide(client, await team.headers(client, "head"), request_id)
    assert refusal(response) == (403, "not_an_approver")
    await _unchanged(team, request_id, history)


async def test_acting_after_the_end_is_refused(client: Client, team: Team) -> None:
    await set_workflow(team.kit, "purchase", MANAGER)
    request_id = await submit_request(team.kit, team.requester)
    manager = await team.headers(client, "manager")
    await decide(client, manager, request_id, "reject")
    again = await decide(client, manager, request_id, "approve")
    assert refusal(again) == (409, "request_closed")
    assert (await load(team.kit, request_id)).status == "rejected"


async def test_deciding_twice_on_an_all_step_is_refused(client: Client, team: Team) -> None:
    await set_workflow(
        team.kit, "purchase", Step(name="Pair", rule="users", quorum="all", user_ids=[team.manager, team.head])
    )
    request_id = await submit_request(team.kit, team.requester)
    manager = await team.headers(client, "manager")
    await decide(client, manager, request_id)
    assert refusal(await decide(client, manager, request_id)) == (409, "already_decided")


async def test_requesting_changes_needs_a_comment(client: Client, team: Team) -> None:
    await set_workflow(team.kit, "purchase", MANAGER)
    request_id = await submit_request(team.kit, team.requester)
    history = len(await events(team.kit, request_id))
    response = await decide(client, await team.headers(client, "manager"), request_id, "request_changes")
    assert refusal(response) == (422, "comment_required")
    await _unchanged(team, request_id, history)


async def test_a_built_in_kind_cannot_be_posted_over_http(client: Client, team: Team) -> None:
    response = await client.post(
        "/api/v1/approvals", json={"kind": "leave", "title": "Holiday"}, headers=await team.headers(client, "requester")
    )
    assert refusal(response) == (422, "reserved_kind")


async def test_a_kind_without_workflow_is_refused(client: Client, team: Team) -> None:
    response = await client.post(
        "/api/v1/approvals", json={"kind": "unheard-of", "title": "?"}, headers=await team.headers(client, "requester")
    )
    assert refusal(response) == (422, "no_workflow")


async def test_a_workflow_finding_no_approver_refuses_the_request(client: Client, team: Team) -> None:
    await set_workflow(team.kit, "purchase", Step(name="Self", rule="users", user_ids=[team.requester]))
    response = await client.post(
        "/api/v1/approvals", json={"kind": "purchase", "title": "x"}, headers=await team.headers(client, "requester")
    )
    assert refusal(response) == (422, "no_approvers")
    listed = await client.get("/api/v1/approvals", headers=await team.headers(client, "requester"))
    assert listed.json()["total"] == 0


async def test_submitting_for_someone_else_needs_manage(client: Client, team: Team) -> None:
    await set_workflow(team.kit, "purchase", MANAGER)
    response = await client.post(
        "/api/v1/approvals",
        json={"kind": "purchase", "title": "x", "requester_id": str(team.requester)},
        headers=await team.headers(client, "head"),
    )
    assert refusal(response) == (403, "forbidden")


async def test_another_tenants_request_is_not_found(client: Client, team: Team, other_tenant: TenantKit) -> None:
    await set_workflow(team.kit, "purchase", MANAGER)
    request_id = await submit_request(team.kit, team.requester)
    outsider = await other_tenant.headers(client, "admin")
    assert refusal(await client.get(f"/api/v1/approvals/{request_id}", headers=outsider)) == (404, "not_found")
    assert refusal(await decide(client, outsider, request_id)) == (404, "not_found")
    cancel = await client.post(f"/api/v1/approvals/{request_id}/cancel", headers=outsider)
    assert refusal(cancel) == (404, "not_found")
    assert (await load(team.kit, request_id)).status == "pending"


async def test_a_colleague_who_is_no_party_cannot_read_the_request(client: Client, team: Team) -> None:
    await set_workflow(team.kit, "purchase", MANAGER)
    request_id = await submit_request(team.kit, team.requester)
    response = await client.get(f"/api/v1/approvals/{request_id}", headers=await team.headers(client, "head"))
    assert refusal(response) == (404, "not_found")


async def test_two_approvers_at_once_on_an_any_step_one_wins(team: Team) -> None:
    """The first decision holds the request's row lock; the second waits on it, then finds the request closed."""
    kit = team.kit
    await set_workflow(
        kit, "purchase", Step(name="Pair", rule="users", quorum="any", user_ids=[team.manager, team.head])
    )
    request_id = await submit_request(kit, team.requester)
    async with kit.runtime.db.transaction(tenant_id=kit.id) as first:
        await flow.decide(first, request_id=request_id, actor_id=team.manager, decision="approve")
        second = asyncio.create_task(_decide_alone(kit, request_id, team.head))
        await eventually(lambda: _waits_on_a_lock(kit))
    with pytest.raises(AppError) as refused:
        await second
    assert (refused.value.code, refused.value.status_code) == ("request_closed", 409)
    request = await load(kit, request_id)
    assert (request.status, request.decided_by) == ("approved", team.manager)
    assert {(a.approver_id, a.decision) for a in await approvers(kit, request_id)} == {
        (team.manager, "approved"),
        (team.head, None),
    }


async def test_two_concurrent_http_approvals_give_one_200_and_one_409(client: Client, team: Team) -> None:
    await set_workflow(
        team.kit, "purchase", Step(name="Pair", rule="users", quorum="any", user_ids=[team.manager, team.head])
    )
    request_id = await submit_request(team.kit, team.requester)
    manager, head = await team.headers(client, "manager"), await team.headers(client, "head")
    responses = await asyncio.gather(decide(client, manager, request_id), decide(client, head, request_id))
    assert sorted(refusal(r) for r in responses) == [(200, None), (409, "request_closed")]


async def _decide_alone(kit: TenantKit, request_id: UUID, actor_id: UUID) -> None:
    async with kit.runtime.db.transaction(tenant_id=kit.id) as session:
        await flow.decide(session, request_id=request_id, actor_id=actor_id, decision="approve")


async def _waits_on_a_lock(kit: TenantKit) -> bool:
    async with kit.runtime.db.transaction() as session:
        waiting = await session.scalar(
            text(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                "AND query LIKE '%FROM approval_request%FOR UPDATE%' AND datname = current_database()"
            )
        )
    return bool(waiting)
