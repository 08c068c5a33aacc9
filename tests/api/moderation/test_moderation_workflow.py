"""The moderator's workflow over HTTP: scopes, claims, held messages, files, appeals, the reporter's
feedback, the per-rule report and the audit trail of every action."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from typing import Any
from uuid import UUID

from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import select, update

from api.runtime import Runtime
from channels.conversations import Conversations
from channels.moderation.screening import counted
from persistence.models import Conversation, Department, ModerationRule, User, Workplace
from tests.api.moderation.moderation_http import act, acted, flag, notifications, queue, seen_by
from tests.channels.chat import as_user, channel, say
from tests.channels.files import png
from tests.kit import PASSWORD, TenantKit

Client = AsyncTestClient[Litestar]


async def new_rule(client: Client, tenant: TenantKit, **fields: Any) -> dict[str, Any]:
    response = await client.post(
        "/api/v1/moderation/rules", json={"name": "rule", **fields}, headers=await tenant.headers(client, "moderator")
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


# -- scopes ---------------------------------------------------------------------------------------


async def test_a_department_scope_limits_the_queue_and_refuses_actions_outside_it(
    client: Client, runtime: Runtime, tenant: TenantKit
) -> None:
    await tenant.add_user("north", roles=["staff"])
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        department = Department(tenant_id=tenant.id, name="North")
        session.add(department)
        await session.flush()
        await session.execute(update(User).where(User.id == tenant.users["north"]).values(department_id=department.id))
    room = await channel(runtime, tenant, members=("staff", "north", "supervisor"))
    inside = await flag(client, tenant, "supervisor", (await say(runtime, tenant, "north", room, "north words")).id)
    outside = await flag(client, tenant, "supervisor", (await say(runtime, tenant, "staff", room, "other words")).id)

    admin = await tenant.headers(client, "admin")
    scoped = await client.put(
        f"/api/v1/moderation/scopes/{tenant.users['moderator']}",
        json={"department_ids": [str(department.id)]},
        headers=admin,
    )
    assert scoped.status_code == 200, scoped.text
    read = await client.get(f"/api/v1/moderation/scopes/{tenant.users['moderator']}", headers=admin)
    assert read.json() == {"department_ids": [str(department.id)], "workplace_ids": []}

    assert await queue(client, tenant, "moderator") == [inside]
    moderator = await tenant.headers(client, "moderator")
    assert (await client.get(f"/api/v1/moderation/cases/{outside}", headers=moderator)).status_code == 404
    assert (await client.post(f"/api/v1/moderation/cases/{outside}/claim", headers=moderator)).status_code == 404
    refused = await act(client, tenant, "moderator", outside, "hide")
    assert (refused.status_code, refused.json()["error"]["code"]) == (404, "not_found")
    # Nothing changed: the other moderator (whole tenant) still finds it open, the message is shown.
    assert outside in await queue(client, tenant, "admin")
    await acted(client, tenant, "moderator", inside, "dismiss")


async def test_a_workplace_scope_limits_the_queue_to_that_workplaces_conversations(
    client: Client, runtime: Runtime, tenant: TenantKit
) -> None:
    store_room = await channel(runtime, tenant, members=("staff", "supervisor"))
    other_room = await channel(runtime, tenant, members=("staff", "supervisor"))
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        workplace = Workplace(
            tenant_id=tenant.id,
            name="Store 7",
            code="S7",
            latitude=0.0,
            longitude=0.0,
            geofence_radius_m=100,
            timezone="UTC",
        )
        session.add(workplace)
        await session.flush()
        await session.execute(
            update(Conversation).where(Conversation.id == store_room).values(workplace_id=workplace.id)
        )
    inside = await flag(client, tenant, "supervisor", (await say(runtime, tenant, "staff", store_room, "a")).id)
    outside = await flag(client, tenant, "supervisor", (await say(runtime, tenant, "staff", other_room, "b")).id)
    await client.put(
        f"/api/v1/moderation/scopes/{tenant.users['moderator']}",
        json={"workplace_ids": [str(workplace.id)]},
        headers=await tenant.headers(client, "admin"),
    )
    assert await queue(client, tenant, "moderator") == [inside]
    assert (await act(client, tenant, "moderator", outside, "dismiss")).status_code == 404
    assert set(await queue(client, tenant, "admin")) == {inside, outside}


async def test_only_a_moderation_admin_sets_scopes_and_settings(client: Client, tenant: TenantKit) -> None:
    moderator = await tenant.headers(client, "moderator")
    target = f"/api/v1/moderation/scopes/{tenant.users['moderator']}"
    assert (await client.put(target, json={}, headers=moderator)).status_code == 403
    assert (
        await client.put("/api/v1/moderation/settings", json={"reveal_moderator": True}, headers=moderator)
    ).status_code == 403
    assert (await client.get("/api/v1/moderation/audit.csv", headers=moderator)).status_code == 403


# -- claims ---------------------------------------------------------------------------------------


async def test_a_claimed_case_is_refused_to_another_moderator_until_released(
    client: Client, runtime: Runtime, tenant: TenantKit
) -> None:
    await tenant.add_user("mod2", roles=["moderator"])
    room = await channel(runtime, tenant, members=("staff", "supervisor"))
    case_id = await flag(client, tenant, "supervisor", (await say(runtime, tenant, "staff", room, "x")).id)
    first = await tenant.headers(client, "moderator")
    second = await tenant.headers(client, "mod2")

    claimed = await client.post(f"/api/v1/moderation/cases/{case_id}/claim", headers=first)
    assert (claimed.status_code, claimed.json()["status"]) == (200, "in_review")
    taken = await client.post(f"/api/v1/moderation/cases/{case_id}/claim", headers=second)
    assert (taken.status_code, taken.json()["error"]["code"]) == (409, "claimed")
    refused = await act(client, tenant, "mod2", case_id, "dismiss")
    assert (refused.status_code, refused.json()["error"]["code"]) == (409, "claimed")
    assert (await client.post(f"/api/v1/moderation/cases/{case_id}/release", headers=second)).status_code == 409

    assert (await client.post(f"/api/v1/moderation/cases/{case_id}/release", headers=first)).status_code == 200
    assert (await client.post(f"/api/v1/moderation/cases/{case_id}/claim", headers=second)).status_code == 200
    await acted(client, tenant, "mod2", case_id, "dismiss")
    closed = await client.post(f"/api/v1/moderation/cases/{case_id}/claim", headers=first)
    assert (closed.status_code, closed.json()["error"]["code"]) == (409, "conflict")


async def test_two_moderators_claiming_at_once_end_with_one_holder(
    client: Client, runtime: Runtime, tenant: TenantKit
) -> None:
    await tenant.add_user("mod2", roles=["moderator"])
    room = await channel(runtime, tenant, members=("staff", "supervisor"))
    case_id = await flag(client, tenant, "supervisor", (await say(runtime, tenant, "staff", room, "x")).id)
    first, second = await tenant.headers(client, "moderator"), await tenant.headers(client, "mod2")
    answers = await asyncio.gather(
        client.post(f"/api/v1/moderation/cases/{case_id}/claim", headers=first),
        client.post(f"/api/v1/moderation/cases/{case_id}/claim", headers=second),
    )
    assert sorted(a.status_code for a in answers) == [200, 409]
    winner = next(a for a in answers if a.status_code == 200).json()["claimed_by"]
    assert winner in (str(tenant.users["moderator"]), str(tenant.users["mod2"]))


# -- held messages ----------------------------------------------------------------------------------


async def test_a_held_message_is_invisible_until_approved(client: Client, runtime: Runtime, tenant: TenantKit) -> None:
    rule = await new_rule(client, tenant, kind="words", action="hold", terms=["cash only"])
    room = await channel(runtime, tenant, members=("staff", "supervisor"))
    sent = await say(runtime, tenant, "staff", room, "cash only today")
    assert sent.moderation == "held"
    assert (await seen_by(client, tenant, "supervisor", sent.id))["body"] == ""
    assert (await seen_by(client, tenant, "staff", sent.id))["body"] == "cash only today"
    # A member cannot flag what they cannot see yet.
    unseen = await client.post(
        "/api/v1/moderation/flags",
        json={"message_id": str(sent.id), "reason": "spam"},
        headers=await tenant.headers(client, "supervisor"),
    )
    assert unseen.status_code == 404

    (case_id,) = await queue(client, tenant, "moderator", rule_id=rule["id"])
    detail = (
        await client.get(f"/api/v1/moderation/cases/{case_id}", headers=await tenant.headers(client, "moderator"))
    ).json()
    assert detail["case"]["held"] is True
    assert [m["body"] for m in detail["context"]] == ["cash only today"]  # moderators see the content
    assert (await act(client, tenant, "moderator", case_id, "approve", reason="")).status_code == 422
    await acted(client, tenant, "moderator", case_id, "approve", reason="a price, not a scam")
    shown = await seen_by(client, tenant, "supervisor", sent.id)
    assert (shown["body"], shown.get("moderation")) == ("cash only today", None)


async def test_a_rejected_held_message_is_gone_for_everyone(
    client: Client, runtime: Runtime, tenant: TenantKit
) -> None:
    await new_rule(client, tenant, kind="words", action="hold", terms=["wire me"])
    room = await channel(runtime, tenant, members=("staff", "supervisor"))
    sent = await say(runtime, tenant, "staff", room, "wire me the money")
    (case_id,) = await queue(client, tenant, "moderator")
    # Approve and reject are for held messages only; a normal case refuses them.
    other = await flag(client, tenant, "supervisor", (await say(runtime, tenant, "staff", room, "hello")).id)
    assert (await act(client, tenant, "moderator", other, "approve")).status_code == 422
    await acted(client, tenant, "moderator", case_id, "reject", reason="fraud attempt")
    for role in ("supervisor", "staff"):
        gone = await seen_by(client, tenant, role, sent.id)
        assert (gone["deleted"], gone["body"]) == (True, "")


# -- files ----------------------------------------------------------------------------------------


async def test_a_file_is_flagged_into_one_case_and_an_unseen_file_is_not_found(
    client: Client, runtime: Runtime, tenant: TenantKit
) -> None:
    async def private_room(conversations: Conversations) -> UUID:
        created = await conversations.create_channel(
            name="photos", kind="private", member_ids=[tenant.users[r] for r in ("staff", "moderator")]
        )
        return created.id

    room = await as_user(runtime, tenant, "supervisor", private_room)
    uploaded = await client.post(
        "/api/v1/files",
        files={"file": ("shelf.png", png(4, 4), "image/png")},
        headers=await tenant.headers(client, "staff"),
    )
    assert uploaded.status_code == 201, uploaded.text
    file_id = uploaded.json()["id"]
    await say(runtime, tenant, "staff", room, "photo", attachment_ids=[UUID(file_id)])

    async def flag_file(role: str, reason: str) -> Any:
        return await client.post(
            "/api/v1/moderation/flags",
            json={"attachment_id": file_id, "reason": reason, "note": "see the photo"},
            headers=await tenant.headers(client, role),
        )

    first, second = await flag_file("supervisor", "sexual"), await flag_file("moderator", "private_data")
    assert first.json()["case_id"] == second.json()["case_id"]
    again = await flag_file("supervisor", "spam")
    assert (again.status_code, again.json()["error"]["code"]) == (409, "already_flagged")
    outsider = await flag_file("admin", "spam")  # not a member of the private room
    assert outsider.status_code == 404
    detail = (
        await client.get(
            f"/api/v1/moderation/cases/{first.json()['case_id']}", headers=await tenant.headers(client, "moderator")
        )
    ).json()
    assert detail["case"]["attachment_id"] == file_id
    assert (detail["case"]["flag_count"], detail["case"]["reasons"]) == (2, ["private_data", "sexual"])
    assert detail["case"]["content"] == "shelf.png"
    assert {f["note"] for f in detail["flags"]} == {"see the photo"}


# -- appeals --------------------------------------------------------------------------------------


async def test_an_appeal_goes_to_a_different_moderator_who_can_overturn_it(
    client: Client, runtime: Runtime, tenant: TenantKit
) -> None:
    await tenant.add_user("mod2", roles=["moderator"])
    room = await channel(runtime, tenant, members=("staff", "supervisor"))
    message = await say(runtime, tenant, "staff", room, "the manager is lazy")
    case_id = await flag(client, tenant, "supervisor", message.id, "harassment")
    hide = await acted(client, tenant, "moderator", case_id, "hide", reason="insult")
    assert (await seen_by(client, tenant, "supervisor", message.id))["body"] == ""

    author = await tenant.headers(client, "staff")
    body = {"action_id": hide["id"], "statement": "it was about the shelf manager app"}
    # Only the one the action fell on appeals it.
    assert (
        await client.post("/api/v1/moderation/appeals", json=body, headers=await tenant.headers(client, "supervisor"))
    ).status_code == 404
    appealed = await client.post("/api/v1/moderation/appeals", json=body, headers=author)
    assert appealed.status_code == 201, appealed.text
    twice = await client.post("/api/v1/moderation/appeals", json=body, headers=author)
    assert (twice.status_code, twice.json()["error"]["code"]) == (409, "already_appealed")

    (appeal_case,) = await queue(client, tenant, "mod2", reason="appeal")
    detail = (
        await client.get(f"/api/v1/moderation/cases/{appeal_case}", headers=await tenant.headers(client, "mod2"))
    ).json()
    assert detail["appeal"]["statement"] == "it was about the shelf manager app"
    assert (detail["appealed_action"]["kind"], detail["appealed_action"]["reason"]) == ("hide", "insult")
    assert detail["case"]["content"] == "the manager is lazy"
    first = await tenant.headers(client, "moderator")
    assert (await client.post(f"/api/v1/moderation/cases/{appeal_case}/claim", headers=first)).status_code == 403
    refused = await act(client, tenant, "moderator", appeal_case, "uphold")
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "forbidden")
    assert (await act(client, tenant, "mod2", appeal_case, "hide")).status_code in (409, 422)
    await acted(client, tenant, "mod2", appeal_case, "overturn", reason="an app, not a person")
    shown = await seen_by(client, tenant, "supervisor", message.id)
    assert (shown["body"], shown.get("moderation")) == ("the manager is lazy", None)


async def test_an_upheld_mute_stays_and_an_overturned_one_is_lifted(
    client: Client, runtime: Runtime, tenant: TenantKit
) -> None:
    await tenant.add_user("mod2", roles=["moderator"])
    room = await channel(runtime, tenant, members=("staff", "supervisor"))
    case_id = await flag(client, tenant, "supervisor", (await say(runtime, tenant, "staff", room, "spam")).id)
    mute = await acted(client, tenant, "moderator", case_id, "mute", mute_minutes=60)
    author = await tenant.headers(client, "staff")
    sent = await client.post(
        f"/api/v1/conversations/{room}/messages", json={"client_id": "m1", "body": "hi"}, headers=author
    )
    assert (sent.status_code, sent.json()["error"]["code"]) == (403, "muted")
    await client.post(
        "/api/v1/moderation/appeals", json={"action_id": mute["id"], "statement": "sorry"}, headers=author
    )
    (appeal_case,) = await queue(client, tenant, "mod2", reason="appeal")
    await acted(client, tenant, "mod2", appeal_case, "overturn", reason="first time")
    sent = await client.post(
        f"/api/v1/conversations/{room}/messages", json={"client_id": "m2", "body": "hi"}, headers=author
    )
    assert sent.status_code == 201, sent.text


# -- the reporter's feedback ------------------------------------------------------------------------


async def test_the_reporter_learns_the_outcome_without_or_with_the_moderators_name(
    client: Client, runtime: Runtime, tenant: TenantKit
) -> None:
    room = await channel(runtime, tenant, members=("staff", "supervisor"))
    first = await flag(client, tenant, "supervisor", (await say(runtime, tenant, "staff", room, "one")).id)
    await acted(client, tenant, "moderator", first, "dismiss")
    (feedback,) = [
        n for n in await notifications(client, tenant, "supervisor") if n["title"] == "Your report was reviewed"
    ]
    assert "no action was needed" in feedback["body"]
    assert "Moderator" not in feedback["body"]

    admin = await tenant.headers(client, "admin")
    assert (await client.get("/api/v1/moderation/settings", headers=admin)).json() == {"reveal_moderator": False}
    changed = await client.put("/api/v1/moderation/settings", json={"reveal_moderator": True}, headers=admin)
    assert changed.json() == {"reveal_moderator": True}
    assert (await client.get("/api/v1/moderation/settings", headers=admin)).json() == {"reveal_moderator": True}

    second = await flag(client, tenant, "supervisor", (await say(runtime, tenant, "staff", room, "two")).id)
    await acted(client, tenant, "moderator", second, "hide")
    named = [n for n in await notifications(client, tenant, "supervisor") if n["title"] == "Your report was reviewed"]
    assert len(named) == 2
    newest = max(named, key=lambda n: n["created_at"])
    assert "by Moderator" in newest["body"]
    assert "action was taken" in newest["body"]


# -- the per-rule report ----------------------------------------------------------------------------


async def test_each_rule_reports_its_firings_blocks_included_and_its_dismissed_cases(
    client: Client, runtime: Runtime, tenant: TenantKit
) -> None:
    blocker = await new_rule(client, tenant, kind="words", action="block", terms=["casino"])
    flagger = await new_rule(client, tenant, kind="words", action="flag", terms=["lottery"])
    room = await channel(runtime, tenant, members=("staff",))
    for n in range(2):
        refused = await client.post(
            f"/api/v1/conversations/{room}/messages",
            json={"client_id": f"b{n}", "body": "visit the casino"},
            headers=await tenant.headers(client, "staff"),
        )
        assert (refused.status_code, refused.json()["error"]["code"]) == (422, "blocked_by_rule")
    await say(runtime, tenant, "staff", room, "lottery one")
    await say(runtime, tenant, "staff", room, "lottery two")
    first, second = await queue(client, tenant, "moderator", rule_id=flagger["id"])
    await acted(client, tenant, "moderator", first, "dismiss")
    await acted(client, tenant, "moderator", second, "hide")
    await counted()  # blocked sends are counted in their own transaction, just after the refusal

    report = (
        await client.get("/api/v1/moderation/rules/report", headers=await tenant.headers(client, "moderator"))
    ).json()
    by_id = {r["rule_id"]: r for r in report}
    assert (by_id[blocker["id"]]["fired_count"], by_id[blocker["id"]]["cases"]) == (2, 0)
    flagged = by_id[flagger["id"]]
    assert (flagged["fired_count"], flagged["cases"], flagged["dismissed"], flagged["resolved"]) == (2, 2, 1, 1)
    rules = (await client.get("/api/v1/moderation/rules", headers=await tenant.headers(client, "moderator"))).json()
    listed = {r["id"]: r for r in rules}
    assert (listed[blocker["id"]]["fired_count"], listed[flagger["id"]]["dismissed_count"]) == (2, 1)
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        assert (
            await session.scalar(select(ModerationRule.fired_count).where(ModerationRule.id == UUID(blocker["id"])))
            == 2
        )


async def test_the_rule_tester_says_what_a_rule_would_do_and_stores_nothing(client: Client, tenant: TenantKit) -> None:
    moderator = await tenant.headers(client, "moderator")
    tried = await client.post(
        "/api/v1/moderation/rules/test",
        json={"rule": {"name": "t", "kind": "regex", "action": "mask", "pattern": r"\d{4}"}, "sample": "pin 1234"},
        headers=moderator,
    )
    assert tried.json()["fired"] is True
    assert tried.json()["masked"] == "pin ****"
    bad = await client.post(
        "/api/v1/moderation/rules/test",
        json={"rule": {"name": "t", "kind": "regex", "action": "flag", "pattern": "(a|aa)*b"}, "sample": "aaa"},
        headers=moderator,
    )
    assert (bad.status_code, bad.json()["error"]["code"]) == (422, "invalid_rule")
    assert (await client.get("/api/v1/moderation/rules", headers=moderator)).json() == []


# -- the audit trail --------------------------------------------------------------------------------


async def test_every_flag_rule_change_and_action_is_audited_and_exported(
    client: Client, runtime: Runtime, tenant: TenantKit
) -> None:
    await tenant.add_user("mod2", roles=["moderator"])
    await tenant.add_user("other", roles=["staff"])
    room = await channel(runtime, tenant, members=("staff", "supervisor", "other"))
    moderator = await tenant.headers(client, "moderator")
    rule = await new_rule(client, tenant, kind="words", action="hold", terms=["held words"])
    await client.patch(f"/api/v1/moderation/rules/{rule['id']}", json={"name": "renamed"}, headers=moderator)

    async def case_of(body: str, author: str = "staff") -> str:
        return await flag(client, tenant, "supervisor", (await say(runtime, tenant, author, room, body)).id)

    dismissed = await case_of("dismiss me")
    await client.post(f"/api/v1/moderation/cases/{dismissed}/claim", headers=moderator)
    await acted(client, tenant, "moderator", dismissed, "dismiss", reason="r-dismiss")
    hidden = await case_of("hide me")
    hide = await acted(client, tenant, "moderator", hidden, "hide", reason="r-hide")
    await acted(client, tenant, "moderator", hidden, "restore", reason="r-restore")
    await acted(client, tenant, "moderator", await case_of("delete me"), "delete", reason="r-delete")
    await acted(client, tenant, "moderator", await case_of("warn me"), "warn", reason="r-warn")
    await acted(client, tenant, "moderator", await case_of("mute me"), "mute", reason="r-mute", mute_minutes=5)
    await acted(client, tenant, "moderator", await case_of("suspend me", "other"), "suspend", reason="r-suspend")
    await say(runtime, tenant, "supervisor", room, "held words one")
    await say(runtime, tenant, "supervisor", room, "held words two")
    held = await queue(client, tenant, "moderator", rule_id=rule["id"])
    await acted(client, tenant, "moderator", held[0], "approve", reason="r-approve")
    await acted(client, tenant, "moderator", held[1], "reject", reason="r-reject")
    await client.post(
        "/api/v1/moderation/appeals",
        json={"action_id": hide["id"], "statement": "please"},
        headers=await tenant.headers(client, "staff"),
    )
    (appeal_case,) = await queue(client, tenant, "mod2", reason="appeal")
    await acted(client, tenant, "mod2", appeal_case, "uphold", reason="r-uphold")
    await client.delete(f"/api/v1/moderation/rules/{rule['id']}", headers=moderator)

    admin = await tenant.headers(client, "admin")
    page = (await client.get("/api/v1/moderation/audit", params={"limit": 200}, headers=admin)).json()
    actions = [e["action"] for e in page["items"]]
    expected = {
        "moderation.flag",
        "moderation.rule.create",
        "moderation.rule.update",
        "moderation.rule.delete",
        "moderation.rule.fired",
        "moderation.case.claim",
        "moderation.appeal",
        *(f"moderation.{k}" for k in ("dismiss", "hide", "restore", "delete", "warn", "mute", "suspend")),
        *(f"moderation.{k}" for k in ("approve", "reject", "uphold")),
    }
    assert expected <= set(actions), expected - set(actions)
    assert page["total"] == len(actions)
    by_action = {e["action"]: e for e in page["items"]}
    hide_event = by_action["moderation.hide"]
    assert hide_event["actor_user_id"] == str(tenant.users["moderator"])
    assert (hide_event["details"]["reason"], hide_event["details"]["content"]) == ("r-hide", "hide me")
    assert by_action["moderation.delete"]["details"]["content"] == "delete me"  # the content as it was
    assert by_action["moderation.uphold"]["actor_user_id"] == str(tenant.users["mod2"])

    # An admin reviews one moderator's own actions.
    mine = (
        await client.get("/api/v1/moderation/audit", params={"actor": str(tenant.users["mod2"])}, headers=admin)
    ).json()
    assert {e["action"] for e in mine["items"]} == {"moderation.uphold"}

    export = await client.get("/api/v1/moderation/audit.csv", headers=admin)
    assert export.headers["content-type"].startswith("text/csv")
    assert "attachment" in export.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(export.text)))
    assert {r["action"] for r in rows} == set(actions)
    deleted_row = next(r for r in rows if r["action"] == "moderation.delete")
    assert json.loads(deleted_row["details"])["reason"] == "r-delete"
    assert deleted_row["actor_user_id"] == str(tenant.users["moderator"])
    # Oldest first in the export, and only this tenant's records.
    assert [r["occurred_at"] for r in rows] == sorted(r["occurred_at"] for r in rows)


async def test_another_tenants_moderator_cannot_act_and_nothing_changes(
    client: Client, runtime: Runtime, tenant: TenantKit, other_tenant: TenantKit
) -> None:
    room = await channel(runtime, tenant, members=("staff", "supervisor"))
    message = await say(runtime, tenant, "staff", room, "keep me")
    case_id = await flag(client, tenant, "supervisor", message.id)
    refused = await act(client, other_tenant, "moderator", case_id, "hide")
    assert refused.status_code == 404
    assert (await seen_by(client, tenant, "supervisor", message.id))["body"] == "keep me"
    assert await queue(client, tenant, "moderator") == [case_id]
    assert (await client.get("/api/v1/moderation/audit", headers=await other_tenant.headers(client, "admin"))).json()[
        "total"
    ] == 0


async def test_a_suspended_user_appeals_once_with_their_password_and_can_be_reinstated(
    client: Client, runtime: Runtime, tenant: TenantKit
) -> None:
    await tenant.add_user("mod2", roles=["moderator"])
    room = await channel(runtime, tenant, members=("staff", "supervisor"))
    case_id = await flag(client, tenant, "supervisor", (await say(runtime, tenant, "staff", room, "threat")).id)
    login = {"email": tenant.email("staff"), "password": PASSWORD, "tenant": tenant.slug}
    body = {"email": tenant.email("staff"), "password": PASSWORD, "statement": "I was hacked"}

    # Not suspended: nothing to appeal.
    early = await client.post("/api/v1/moderation/suspension-appeals", json=body)
    assert (early.status_code, early.json()["error"]["code"]) == (404, "not_found")
    await acted(client, tenant, "moderator", case_id, "suspend", reason="threat")
    assert (await client.post("/api/v1/auth/login", json=login)).status_code == 401

    wrong = await client.post("/api/v1/moderation/suspension-appeals", json={**body, "password": "guess"})
    assert (wrong.status_code, wrong.json()["error"]["code"]) == (401, "invalid_credentials")
    unknown = await client.post("/api/v1/moderation/suspension-appeals", json={**body, "email": "nobody@x.example"})
    assert unknown.status_code == 401
    made = await client.post("/api/v1/moderation/suspension-appeals", json=body)
    assert made.status_code == 201, made.text
    assert made.json()["appellant_id"] == str(tenant.users["staff"])
    twice = await client.post("/api/v1/moderation/suspension-appeals", json=body)
    assert (twice.status_code, twice.json()["error"]["code"]) == (409, "already_appealed")

    (appeal_case,) = await queue(client, tenant, "mod2", reason="appeal")
    assert (await act(client, tenant, "moderator", appeal_case, "overturn")).status_code == 403
    await acted(client, tenant, "mod2", appeal_case, "overturn", reason="account was compromised")
    assert (await client.post("/api/v1/auth/login", json=login)).status_code == 200


async def test_a_warning_reaches_the_author_through_delivery(
    client: Client, runtime: Runtime, tenant: TenantKit
) -> None:
    room = await channel(runtime, tenant, members=("staff", "supervisor"))
    case_id = await flag(client, tenant, "supervisor", (await say(runtime, tenant, "staff", room, "rude")).id)
    warning = await acted(client, tenant, "moderator", case_id, "warn", reason="keep it civil")
    (note,) = [n for n in await notifications(client, tenant, "staff") if n["title"] == "A moderator warned you"]
    assert "keep it civil" in note["body"]
    assert "appeal" in note["body"]
    assert warning["target_user_id"] == str(tenant.users["staff"])
