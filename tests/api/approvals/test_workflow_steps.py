"""Multi-step workflows with both quorums, and who each approver rule names."""

from __future__ import annotations

from uuid import UUID

from litestar import Litestar
from litestar.testing import AsyncTestClient

from api.approvals.schemas import Step
from tests.api.approvals.arrange import Team, approvers, decide, load, set_workflow, submit_request

Client = AsyncTestClient[Litestar]
MANAGER = Step(name="Manager", rule="manager")


async def test_an_any_step_is_done_with_one_approval(client: Client, team: Team) -> None:
    kit = team.kit
    await set_workflow(
        kit, "purchase", Step(name="Pair", rule="users", quorum="any", user_ids=[team.manager, team.head])
    )
    request_id = await submit_request(kit, team.requester)
    response = await decide(client, await team.headers(client, "head"), request_id)
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "approved"


async def test_an_all_step_waits_for_every_approver(client: Client, team: Team) -> None:
    kit = team.kit
    await set_workflow(
        kit, "purchase", Step(name="Pair", rule="users", quorum="all", user_ids=[team.manager, team.head])
    )
    request_id = await submit_request(kit, team.requester)
    first = await decide(client, await team.headers(client, "head"), request_id)
    assert first.json()["status"] == "pending"
    second = await decide(client, await team.headers(client, "manager"), request_id)
    assert second.json()["status"] == "approved"


async def test_steps_run_in_order_and_the_last_approval_approves(client: Client, team: Team) -> None:
    kit = team.kit
    await set_workflow(
        kit,
        "purchase",
        MANAGER,
        Step(name="Both heads", rule="users", quorum="all", user_ids=[team.head, team.director]),
    )
    request_id = await submit_request(kit, team.requester)
    assert [a.approver_id for a in await approvers(kit, request_id)] == [team.manager]
    after_first = await decide(client, await team.headers(client, "manager"), request_id)
    assert (after_first.json()["status"], after_first.json()["current_step"]) == ("pending", 1)
    await decide(client, await team.headers(client, "head"), request_id)
    assert (await load(kit, request_id)).status == "pending"
    await decide(client, await team.headers(client, "director"), request_id)
    request = await load(kit, request_id)
    assert (request.status, request.decided_by) == ("approved", team.director)


async def test_one_rejection_ends_an_all_step(client: Client, team: Team) -> None:
    kit = team.kit
    await set_workflow(
        kit, "purchase", Step(name="Pair", rule="users", quorum="all", user_ids=[team.manager, team.head])
    )
    request_id = await submit_request(kit, team.requester)
    response = await decide(client, await team.headers(client, "head"), request_id, "reject", "Too expensive")
    assert response.json()["status"] == "rejected"
    assert response.json()["events"][-1]["comment"] == "Too expensive"


async def _first_approvers(team: Team, step: Step) -> list[UUID]:
    await set_workflow(team.kit, "purchase", step)
    request_id = await submit_request(team.kit, team.requester)
    return [a.approver_id for a in await approvers(team.kit, request_id, 0)]


async def test_the_manager_rule_names_the_requesters_manager(team: Team) -> None:
    assert await _first_approvers(team, MANAGER) == [team.manager]


async def test_the_manager_of_manager_rule_names_the_next_one_up(team: Team) -> None:
    assert await _first_approvers(team, Step(name="Director", rule="manager_of_manager")) == [team.director]


async def test_the_department_head_rule_walks_up_past_a_department_without_head(team: Team) -> None:
    assert await _first_approvers(team, Step(name="Head", rule="department_head")) == [team.head]


async def test_the_department_head_rule_starts_levels_up(team: Team) -> None:
    # Store (no head) -> Region (head): one level up is Region itself.
    assert await _first_approvers(team, Step(name="Head", rule="department_head", levels_up=1)) == [team.head]


async def test_the_role_rule_names_every_holder_but_the_requester(team: Team) -> None:
    named = await _first_approvers(team, Step(name="Admins", rule="role", role="admin"))
    assert named == [team.kit.users["admin"]]


async def test_a_step_finding_nobody_is_skipped(team: Team) -> None:
    kit = team.kit
    # The requester is never their own approver, so this step finds nobody.
    await set_workflow(kit, "purchase", Step(name="Self", rule="users", user_ids=[team.requester]), MANAGER)
    request_id = await submit_request(kit, team.requester)
    assert (await load(kit, request_id)).current_step == 1
    assert [(a.step, a.approver_id) for a in await approvers(kit, request_id)] == [(1, team.manager)]
