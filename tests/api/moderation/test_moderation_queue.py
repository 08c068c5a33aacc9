"""The review queue over HTTP: its order (safety first, then flag count, then age), its filters,
what a case shows a moderator, a second flag refused without a trace, and claims and releases in the audit."""

from __future__ import annotations

from litestar import Litestar
from litestar.testing import AsyncTestClient

from api.runtime import Runtime
from tests.api.moderation.moderation_http import acted, flag, queue, seen_by
from tests.channels.chat import channel, say
from tests.kit import TenantKit

Client = AsyncTestClient[Litestar]


async def test_the_queue_puts_safety_first_then_more_flags_then_older_cases(
    client: Client, runtime: Runtime, tenant: TenantKit
) -> None:
    await tenant.add_user("third", roles=["staff"])
    room = await channel(runtime, tenant, members=("staff", "supervisor", "third"))
    oldest = await flag(client, tenant, "supervisor", (await say(runtime, tenant, "staff", room, "a")).id)
    twice = (await say(runtime, tenant, "staff", room, "b")).id
    twice_case = await flag(client, tenant, "supervisor", twice)
    await flag(client, tenant, "third", twice)
    newer = await flag(client, tenant, "supervisor", (await say(runtime, tenant, "staff", room, "c")).id)
    threat = await flag(client, tenant, "supervisor", (await say(runtime, tenant, "staff", room, "d")).id, "violence")
    safety = await flag(client, tenant, "supervisor", (await say(runtime, tenant, "staff", room, "e")).id, "safety")

    assert await queue(client, tenant, "moderator") == [threat, safety, twice_case, oldest, newer]


async def test_the_queue_filters_by_conversation_reporter_and_author(
    client: Client, runtime: Runtime, tenant: TenantKit
) -> None:
    here = await channel(runtime, tenant, members=("staff", "supervisor", "admin"))
    there = await channel(runtime, tenant, members=("staff", "supervisor", "admin"))
    by_staff_here = await flag(client, tenant, "supervisor", (await say(runtime, tenant, "staff", here, "1")).id)
    by_admin_there = await flag(client, tenant, "supervisor", (await say(runtime, tenant, "admin", there, "2")).id)
    reported_by_admin = await flag(client, tenant, "admin", (await say(runtime, tenant, "staff", there, "3")).id)

    assert await queue(client, tenant, "moderator", conversation_id=str(here)) == [by_staff_here]
    assert await queue(client, tenant, "moderator", reporter_id=str(tenant.users["admin"])) == [reported_by_admin]
    assert await queue(client, tenant, "moderator", author_id=str(tenant.users["admin"])) == [by_admin_there]
    assert await queue(client, tenant, "moderator", author_id=str(tenant.users["staff"]), reason="spam") == [
        by_staff_here,
        reported_by_admin,
    ]


async def test_a_case_shows_the_messages_around_it_and_the_authors_earlier_cases(
    client: Client, runtime: Runtime, tenant: TenantKit
) -> None:
    room = await channel(runtime, tenant, members=("staff", "supervisor"))
    earlier = await flag(client, tenant, "supervisor", (await say(runtime, tenant, "staff", room, "earlier")).id)
    await acted(client, tenant, "moderator", earlier, "dismiss")
    for n in range(7):
        await say(runtime, tenant, "supervisor", room, f"before {n}")
    reported = await say(runtime, tenant, "staff", room, "the reported one")
    for n in range(7):
        await say(runtime, tenant, "supervisor", room, f"after {n}")
    case_id = await flag(client, tenant, "supervisor", reported.id, "harassment")

    response = await client.get(
        f"/api/v1/moderation/cases/{case_id}", headers=await tenant.headers(client, "moderator")
    )
    assert response.status_code == 200, response.text
    detail = response.json()
    assert [m["body"] for m in detail["context"]] == [
        *(f"before {n}" for n in range(2, 7)),
        "the reported one",
        *(f"after {n}" for n in range(5)),
    ]
    assert [(c["id"], c["status"]) for c in detail["author_cases"]] == [(earlier, "dismissed")]
    assert [(f["reporter_id"], f["reason"]) for f in detail["flags"]] == [
        (str(tenant.users["supervisor"]), "harassment")
    ]


async def test_a_hidden_message_stays_readable_to_its_author_and_to_moderators(
    client: Client, runtime: Runtime, tenant: TenantKit
) -> None:
    room = await channel(runtime, tenant, members=("staff", "supervisor"))
    message = await say(runtime, tenant, "staff", room, "the manager is lazy")
    case_id = await flag(client, tenant, "supervisor", message.id, "harassment")
    await acted(client, tenant, "moderator", case_id, "hide", reason="insult")

    own = await seen_by(client, tenant, "staff", message.id)
    assert (own["body"], own["moderation"]) == ("the manager is lazy", "hidden")
    detail = (
        await client.get(f"/api/v1/moderation/cases/{case_id}", headers=await tenant.headers(client, "moderator"))
    ).json()
    assert [m["body"] for m in detail["context"]] == ["the manager is lazy"]
    assert (await seen_by(client, tenant, "supervisor", message.id))["body"] == ""


async def test_a_second_flag_by_the_same_member_changes_nothing(
    client: Client, runtime: Runtime, tenant: TenantKit
) -> None:
    room = await channel(runtime, tenant, members=("staff", "supervisor"))
    message = await say(runtime, tenant, "staff", room, "buy now")
    case_id = await flag(client, tenant, "supervisor", message.id, "spam")
    again = await client.post(
        "/api/v1/moderation/flags",
        json={"message_id": str(message.id), "reason": "violence"},
        headers=await tenant.headers(client, "supervisor"),
    )
    assert (again.status_code, again.json()["error"]["code"]) == (409, "already_flagged")

    moderator = await tenant.headers(client, "moderator")
    case = (await client.get(f"/api/v1/moderation/cases/{case_id}", headers=moderator)).json()["case"]
    assert (case["flag_count"], case["reasons"], case["priority"]) == (1, ["spam"], 1)
    audit = await client.get(
        "/api/v1/moderation/audit", params={"action": "moderation.flag"}, headers=await tenant.headers(client, "admin")
    )
    assert audit.json()["total"] == 1


async def test_claiming_and_releasing_a_case_are_both_audited(
    client: Client, runtime: Runtime, tenant: TenantKit
) -> None:
    room = await channel(runtime, tenant, members=("staff", "supervisor"))
    case_id = await flag(client, tenant, "supervisor", (await say(runtime, tenant, "staff", room, "x")).id)
    moderator = await tenant.headers(client, "moderator")
    assert (await client.post(f"/api/v1/moderation/cases/{case_id}/claim", headers=moderator)).status_code == 200
    assert (await client.post(f"/api/v1/moderation/cases/{case_id}/release", headers=moderator)).status_code == 200

    page = (
        await client.get(
            "/api/v1/moderation/audit",
            params={"actor": str(tenant.users["moderator"])},
            headers=await tenant.headers(client, "admin"),
        )
    ).json()
    assert [(e["action"], e["target_id"]) for e in page["items"]] == [
        ("moderation.case.release", case_id),
        ("moderation.case.claim", case_id),
    ]
