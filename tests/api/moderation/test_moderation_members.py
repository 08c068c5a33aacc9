"""Moderation as the people it touches meet it: a moderator deleting from the chat itself (with a
reason, audited, appealable), an author finding what was done to them, a suspended user's mail."""

from __future__ import annotations

from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from api.runtime import Runtime
from tests.api.moderation.moderation_http import acted, flag
from tests.channels.chat import channel, say
from tests.kit import TenantKit
from tests.mailbox import Inbox

Client = AsyncTestClient[Litestar]


async def mine(client: Client, tenant: TenantKit, role: str, **params: str) -> list[dict[str, Any]]:
    response = await client.get(
        "/api/v1/moderation/actions/mine", params=params, headers=await tenant.headers(client, role)
    )
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()
    return items


async def test_a_moderator_deleting_from_the_chat_must_give_a_reason(
    client: Client, runtime: Runtime, tenant: TenantKit
) -> None:
    room = await channel(runtime, tenant, members=("staff", "moderator"))
    message = await say(runtime, tenant, "staff", room, "phone number 555-0100")
    moderator = await tenant.headers(client, "moderator")
    for params in ({}, {"reason": "   "}):
        refused = await client.delete(f"/api/v1/messages/{message.id}", params=params, headers=moderator)
        assert (refused.status_code, refused.json()["error"]["code"]) == (422, "invalid_message")
    page = (await client.get(f"/api/v1/conversations/{room}/messages", headers=moderator)).json()
    assert [m["body"] for m in page["messages"]] == ["phone number 555-0100"]
    audit = (await client.get("/api/v1/moderation/audit", headers=await tenant.headers(client, "admin"))).json()
    assert audit["total"] == 0


async def test_a_moderators_chat_delete_is_an_audited_resolved_case_the_author_can_appeal(
    client: Client, runtime: Runtime, tenant: TenantKit
) -> None:
    room = await channel(runtime, tenant, members=("staff", "moderator"))
    message = await say(runtime, tenant, "staff", room, "phone number 555-0100")
    removed = await client.delete(
        f"/api/v1/messages/{message.id}",
        params={"reason": "private data"},
        headers=await tenant.headers(client, "moderator"),
    )
    assert removed.status_code == 204, removed.text

    admin = await tenant.headers(client, "admin")
    page = (await client.get(f"/api/v1/conversations/{room}/messages", headers=admin)).json()
    assert [(m["deleted"], m["body"]) for m in page["messages"]] == [(True, "")]
    audit = (await client.get("/api/v1/moderation/audit", headers=admin)).json()
    (event,) = [e for e in audit["items"] if e["action"] == "moderation.delete"]
    assert event["actor_user_id"] == str(tenant.users["moderator"])
    assert (event["details"]["reason"], event["details"]["content"]) == ("private data", "phone number 555-0100")
    cases = (await client.get("/api/v1/moderation/cases", params={"status": "resolved"}, headers=admin)).json()
    assert [(c["source"], c["resolution"], c["message_id"]) for c in cases] == [
        ("moderator", "delete", str(message.id))
    ]

    (action,) = await mine(client, tenant, "staff")
    assert (action["kind"], action["reason"], action.get("appeal_status")) == ("delete", "private data", None)
    assert "moderator_id" not in action
    appealed = await client.post(
        "/api/v1/moderation/appeals",
        json={"action_id": action["id"], "statement": "it was the store's number"},
        headers=await tenant.headers(client, "staff"),
    )
    assert appealed.status_code == 201, appealed.text


async def test_a_member_cannot_delete_someone_elses_message_even_with_a_reason(
    client: Client, runtime: Runtime, tenant: TenantKit
) -> None:
    room = await channel(runtime, tenant, members=("staff", "supervisor"))
    message = await say(runtime, tenant, "staff", room, "mine")
    refused = await client.delete(
        f"/api/v1/messages/{message.id}",
        params={"reason": "dislike"},
        headers=await tenant.headers(client, "supervisor"),
    )
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "forbidden")


async def test_an_author_lists_the_actions_against_them_and_how_their_appeals_stand(
    client: Client, runtime: Runtime, tenant: TenantKit
) -> None:
    room = await channel(runtime, tenant, members=("staff", "supervisor"))
    hidden = await say(runtime, tenant, "staff", room, "the manager is lazy")
    other = await say(runtime, tenant, "staff", room, "spam spam")
    hide = await acted(client, tenant, "moderator", await flag(client, tenant, "supervisor", hidden.id), "hide")
    await acted(client, tenant, "moderator", await flag(client, tenant, "supervisor", other.id), "dismiss")

    (listed,) = await mine(client, tenant, "staff", message_id=str(hidden.id))
    assert (listed["id"], listed["kind"], listed.get("appeal_status")) == (hide["id"], "hide", None)
    await client.post(
        "/api/v1/moderation/appeals",
        json={"action_id": hide["id"], "statement": "about an app"},
        headers=await tenant.headers(client, "staff"),
    )
    assert [a["appeal_status"] for a in await mine(client, tenant, "staff")] == ["pending"]
    assert await mine(client, tenant, "supervisor") == []
    assert await mine(client, tenant, "staff", message_id=str(other.id)) == []


@pytest.mark.usefixtures("worker")
async def test_a_suspended_user_is_mailed_the_reason_and_where_to_appeal(
    client: Client, runtime: Runtime, tenant: TenantKit, inbox: Inbox
) -> None:
    room = await channel(runtime, tenant, members=("staff", "supervisor"))
    case_id = await flag(client, tenant, "supervisor", (await say(runtime, tenant, "staff", room, "threat")).id)
    await acted(client, tenant, "moderator", case_id, "suspend", reason="threatened a colleague")
    mail = await inbox.wait_for(tenant.email("staff"))
    assert mail["Subject"] == "Your fieldhub account is suspended"
    text = mail.get_payload(decode=True).decode()  # type: ignore[union-attr]
    assert "threatened a colleague" in text
    assert f"{runtime.settings.public_url}/#/suspension-appeal" in text
