"""Requests end to end: a custom kind posted over HTTP, the subject handler following the final decision in the
same transaction, changes requested then resubmitted, cancelling, and the lists."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from uuid import UUID, uuid4

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession

from api.approvals.schemas import Step
from api.approvals.services import register_subject, unregister_subject
from api.approvals.services.subjects import Outcome
from tests.api.approvals.arrange import (
    Team,
    approvers,
    audit_actions,
    decide,
    load,
    notifications,
    set_workflow,
    submit_request,
)

Client = AsyncTestClient[Litestar]
MANAGER = Step(name="Manager", rule="manager")
KIND = "test.subject"


class Recorder:
    """A subject handler that remembers its calls, or fails when told to."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []
        self.fail = False

    async def __call__(
        self, session: AsyncSession, *, request_id: UUID, outcome: Outcome, decided_by: UUID | None
    ) -> None:
        assert session.in_transaction()
        if self.fail:
            raise RuntimeError("the domain refused")
        self.calls.append({"request_id": request_id, "outcome": outcome, "decided_by": decided_by})


@pytest.fixture
def subject() -> Iterator[Recorder]:
    recorder = Recorder()
    register_subject(KIND, recorder)
    yield recorder
    unregister_subject(KIND)


async def test_an_integration_posts_a_custom_kind_that_is_approved_without_a_subject(
    client: Client, team: Team
) -> None:
    kit = team.kit
    admin = await kit.headers(client, "admin")
    workflow = await client.post(
        "/api/v1/approvals/workflows",
        json={"kind": "purchase", "name": "Purchases", "steps": [{"name": "Manager", "rule": "manager"}]},
        headers=admin,
    )
    assert workflow.status_code == 201, workflow.text
    posted = await client.post(
        "/api/v1/approvals",
        json={
            "kind": "purchase",
            "title": "New laptop",
            "payload": {"amount": 1200},
            "requester_id": str(team.requester),
        },
        headers=admin,
    )
    assert posted.status_code == 201, posted.text
    body = posted.json()
    assert (body["status"], body["submitted_by"], body["payload"]) == (
        "pending",
        str(kit.users["admin"]),
        {"amount": 1200},
    )
    decided = await decide(client, await team.headers(client, "manager"), body["id"])
    assert decided.json()["status"] == "approved"
    assert await audit_actions(kit, body["id"]) == ["approval.submit", "approval.approve"]


async def test_the_subject_follows_the_final_decision(client: Client, team: Team, subject: Recorder) -> None:
    await set_workflow(team.kit, KIND, MANAGER)
    leave_id = uuid4()
    request_id = await submit_request(team.kit, team.requester, kind=KIND, subject_id=leave_id)
    assert subject.calls == []
    await decide(client, await team.headers(client, "manager"), request_id)
    assert subject.calls == [{"request_id": leave_id, "outcome": "approved", "decided_by": team.manager}]


async def test_a_subject_that_fails_rolls_the_decision_back(client: Client, team: Team, subject: Recorder) -> None:
    await set_workflow(team.kit, KIND, MANAGER)
    request_id = await submit_request(team.kit, team.requester, kind=KIND, subject_id=uuid4())
    subject.fail = True
    response = await decide(client, await team.headers(client, "manager"), request_id)
    assert response.status_code == 500
    assert (await load(team.kit, request_id)).status == "pending"
    assert [a.decision for a in await approvers(team.kit, request_id)] == [None]


async def test_changes_requested_then_resubmitted_starts_again(client: Client, team: Team, subject: Recorder) -> None:
    await set_workflow(team.kit, KIND, MANAGER)
    request_id = await submit_request(team.kit, team.requester, kind=KIND, subject_id=uuid4())
    asked = await decide(client, await team.headers(client, "manager"), request_id, "request_changes", "Cheaper one")
    assert asked.json()["status"] == "changes_requested"
    assert subject.calls == []
    again = await client.post(
        f"/api/v1/approvals/{request_id}/resubmit",
        json={"title": "Cheaper laptop"},
        headers=await team.headers(client, "requester"),
    )
    assert again.status_code == 200, again.text
    assert (again.json()["status"], again.json()["title"]) == ("pending", "Cheaper laptop")
    approved = await decide(client, await team.headers(client, "manager"), request_id)
    assert approved.json()["status"] == "approved"


async def test_the_requester_cancels_and_the_subject_is_told(client: Client, team: Team, subject: Recorder) -> None:
    await set_workflow(team.kit, KIND, MANAGER)
    leave_id = uuid4()
    request_id = await submit_request(team.kit, team.requester, kind=KIND, subject_id=leave_id)
    response = await client.post(
        f"/api/v1/approvals/{request_id}/cancel", headers=await team.headers(client, "requester")
    )
    assert response.json()["status"] == "cancelled"
    assert subject.calls == [{"request_id": leave_id, "outcome": "cancelled", "decided_by": team.requester}]


async def test_a_requester_withdrawing_their_own_request_is_not_notified_of_it(client: Client, team: Team) -> None:
    await set_workflow(team.kit, "purchase", MANAGER)
    request_id = await submit_request(team.kit, team.requester)
    response = await client.post(
        f"/api/v1/approvals/{request_id}/cancel", headers=await team.headers(client, "requester")
    )
    assert response.json()["status"] == "cancelled"
    assert await notifications(team.kit, team.requester, request_id) == []


async def test_a_request_cancelled_by_an_approvals_manager_is_told_to_the_requester(client: Client, team: Team) -> None:
    await set_workflow(team.kit, "purchase", MANAGER)
    request_id = await submit_request(team.kit, team.requester)
    response = await client.post(
        f"/api/v1/approvals/{request_id}/cancel", headers=await team.kit.headers(client, "admin")
    )
    assert response.json()["status"] == "cancelled"
    told = await notifications(team.kit, team.requester, request_id)
    assert [(n.title, n.data["status"]) for n in told] == [
        ("Cancelled: " + told[0].title.split(": ", 1)[1], "cancelled")
    ]


async def test_lists_show_my_requests_and_those_waiting_on_me(client: Client, team: Team) -> None:
    await set_workflow(team.kit, "purchase", MANAGER)
    request_id = str(await submit_request(team.kit, team.requester))
    mine = await client.get("/api/v1/approvals", headers=await team.headers(client, "requester"))
    waiting = await client.get(
        "/api/v1/approvals", params={"scope": "to_decide"}, headers=await team.headers(client, "manager")
    )
    not_mine = await client.get(
        "/api/v1/approvals", params={"scope": "to_decide"}, headers=await team.headers(client, "head")
    )
    assert [r["id"] for r in mine.json()["items"]] == [request_id]
    assert [r["id"] for r in waiting.json()["items"]] == [request_id]
    assert not_mine.json()["items"] == []


async def test_comments_join_the_history(client: Client, team: Team) -> None:
    await set_workflow(team.kit, "purchase", MANAGER)
    request_id = await submit_request(team.kit, team.requester)
    headers = await team.headers(client, "manager")
    posted = await client.post(
        f"/api/v1/approvals/{request_id}/comments", json={"body": "Which model?"}, headers=headers
    )
    assert posted.status_code == 201, posted.text
    detail = await client.get(f"/api/v1/approvals/{request_id}", headers=await team.headers(client, "requester"))
    assert [(e["kind"], e["comment"]) for e in detail.json()["events"]][-1] == ("commented", "Which model?")
