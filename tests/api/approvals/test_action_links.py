"""Approve from anywhere: the email (read from the real SMTP server) and the push carry signed Approve and
Reject links; GET asks for confirmation, POST decides, and a used, forged or expired link is refused."""

from __future__ import annotations

import re
from email.message import Message
from typing import Any
from uuid import UUID

from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import text, update

from api.approvals.schemas import Step
from api.runtime import Runtime
from bench.push_service import FakeBrowser, running_push_service
from delivery.subscriptions import save_subscription
from persistence.models import ApprovalLink
from tests.api.approvals.arrange import Team, events, load, notifications, set_workflow, submit_request
from tests.api.identity.arrange import refusal
from tests.delivery.conftest import WorkerFactory
from tests.kit import eventually
from tests.mailbox import Inbox

Client = AsyncTestClient[Litestar]
ACTION = re.compile(r"^(Approve|Reject): https://fieldhub\.test(/api/v1/approvals/actions/\S+)$", re.MULTILINE)


def _text_part(message: Message) -> str:
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            return payload.decode().replace("\r\n", "\n")
    raise AssertionError("no text part")


async def _run_jobs_now(team: Team) -> None:
    """Approval mail waits half an hour for the in-app copy to be read: make it due now."""
    async with team.kit.runtime.db.transaction(tenant_id=team.kit.id) as session:
        await session.execute(text("UPDATE job SET run_at = now() WHERE status = 'queued'"))


async def _submit(team: Team) -> UUID:
    await set_workflow(team.kit, "purchase", Step(name="Manager", rule="manager"))
    return await submit_request(team.kit, team.requester, title="New laptop")


async def test_the_emailed_link_approves_once(
    client: Client,
    runtime: Runtime,
    team: Team,
    smtp_server: tuple[Inbox, int],
    notification_worker: WorkerFactory,
) -> None:
    inbox, port = smtp_server
    request_id = await _submit(team)
    await _run_jobs_now(team)
    async with notification_worker(smtp_port=port):
        mail = await inbox.wait_for(team.kit.email("manager"), timeout=20)
    links = dict(ACTION.findall(_text_part(mail)))
    assert set(links) == {"Approve", "Reject"}
    assert "/api/v1/approvals/actions/" in str(mail.get_payload()[1])  # type: ignore[index]  # the HTML buttons

    page = await client.get(links["Approve"])
    assert page.status_code == 200
    assert "New laptop" in page.text
    assert '<form method="post">' in page.text
    assert (await load(team.kit, request_id)).status == "pending"  # looking changes nothing

    done = await client.post(links["Approve"])
    assert done.status_code == 200, done.text
    assert done.json() == {"request_id": str(request_id), "decision": "approve", "status": "approved"}
    request = await load(team.kit, request_id)
    assert (request.status, request.decided_by) == ("approved", team.manager)

    history = len(await events(team.kit, request_id))
    assert refusal(await client.post(links["Approve"])) == (410, "link_used")
    # The other button of the same notification is dead too, wherever it is shown.
    assert refusal(await client.post(links["Reject"])) == (410, "link_used")
    assert refusal(await client.get(links["Reject"])) == (410, "link_used")
    assert len(await events(team.kit, request_id)) == history


async def test_the_push_carries_the_actions_and_they_work(
    client: Client, runtime: Runtime, team: Team, smtp_server: tuple[Inbox, int], notification_worker: WorkerFactory
) -> None:
    async with running_push_service(FakeBrowser()) as service:
        async with runtime.db.transaction(tenant_id=team.kit.id) as session:
            await save_subscription(
                session,
                tenant_id=team.kit.id,
                user_id=team.manager,
                info=service.browser.subscription(service.endpoint("phone")),
                allow_insecure=True,
            )
        request_id = await _submit(team)
        await _run_jobs_now(team)
        async with notification_worker(smtp_port=smtp_server[1]):
            await eventually(_pushed_to(service, request_id))
    push = next(p for p in service.received if p["payload"]["link"] == f"/approvals/{request_id}")
    actions = {a["id"]: a for a in push["payload"]["actions"]}
    assert [actions[k]["label"] for k in ("approve", "reject")] == ["Approve", "Reject"]
    done = await client.post(actions["reject"]["link"], headers={"Accept": "text/html"})
    assert done.status_code == 200
    assert "rejected" in done.text
    assert (await load(team.kit, request_id)).status == "rejected"
    assert refusal(await client.post(actions["approve"]["link"])) == (410, "link_used")


def _pushed_to(service: Any, request_id: UUID) -> Any:
    async def check() -> bool:
        return any(p["payload"].get("link") == f"/approvals/{request_id}" for p in service.received)

    return check


async def _inbox_links(team: Team, request_id: UUID) -> dict[str, str]:
    [note] = await notifications(team.kit, team.manager, request_id)
    return {a["id"]: a["link"] for a in note.actions}


async def test_a_forged_link_is_refused_and_changes_nothing(client: Client, team: Team) -> None:
    request_id = await _submit(team)
    link = (await _inbox_links(team, request_id))["approve"]
    body, _, mac = link.rpartition("/")[2].partition(".")
    forged = f"/api/v1/approvals/actions/{body}.{mac[:-2]}AA"
    assert refusal(await client.post(forged)) == (400, "invalid_link")
    assert refusal(await client.post("/api/v1/approvals/actions/not-a-token")) == (400, "invalid_link")
    assert (await load(team.kit, request_id)).status == "pending"


async def test_an_expired_link_is_refused_and_changes_nothing(client: Client, team: Team) -> None:
    request_id = await _submit(team)
    link = (await _inbox_links(team, request_id))["approve"]
    async with team.kit.runtime.db.transaction(tenant_id=team.kit.id) as session:
        await session.execute(update(ApprovalLink).values(expires_at=text("now() - interval '1 second'")))
    assert refusal(await client.post(link)) == (410, "link_expired")
    assert (await load(team.kit, request_id)).status == "pending"


async def test_a_link_of_a_request_decided_in_the_app_is_refused(client: Client, team: Team) -> None:
    request_id = await _submit(team)
    link = (await _inbox_links(team, request_id))["approve"]
    await client.post(
        f"/api/v1/approvals/{request_id}/decisions",
        json={"decision": "reject"},
        headers=await team.headers(client, "manager"),
    )
    assert refusal(await client.post(link)) == (409, "request_closed")
    assert (await load(team.kit, request_id)).status == "rejected"
