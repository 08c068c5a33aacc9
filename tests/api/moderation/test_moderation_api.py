"""Moderation over HTTP: flag, review, act, appeal; refusals for non-moderators, other tenants, second appeals."""

from __future__ import annotations

from litestar import Litestar
from litestar.testing import AsyncTestClient

from api.runtime import Runtime
from tests.channels.chat import channel, say
from tests.kit import TenantKit


async def flagged_case(client: AsyncTestClient[Litestar], runtime: Runtime, tenant: TenantKit) -> tuple[str, str]:
    room = await channel(runtime, tenant, members=("staff", "supervisor"))
    message = await say(runtime, tenant, "staff", room, "rude words")
    flagged = await client.post(
        "/api/v1/moderation/flags",
        json={"message_id": str(message.id), "reason": "harassment"},
        headers=await tenant.headers(client, "supervisor"),
    )
    assert flagged.status_code == 201, flagged.text
    return flagged.json()["case_id"], str(message.id)


async def test_a_member_cannot_open_the_queue(client: AsyncTestClient[Litestar], tenant: TenantKit) -> None:
    response = await client.get("/api/v1/moderation/cases", headers=await tenant.headers(client, "staff"))
    assert response.status_code == 403


async def test_another_tenants_case_is_not_found(
    client: AsyncTestClient[Litestar], runtime: Runtime, tenant: TenantKit, other_tenant: TenantKit
) -> None:
    case_id, _ = await flagged_case(client, runtime, tenant)
    response = await client.get(
        f"/api/v1/moderation/cases/{case_id}", headers=await other_tenant.headers(client, "moderator")
    )
    assert response.status_code == 404


async def test_hiding_shows_members_a_placeholder_and_is_audited(
    client: AsyncTestClient[Litestar], runtime: Runtime, tenant: TenantKit
) -> None:
    case_id, message_id = await flagged_case(client, runtime, tenant)
    moderator = await tenant.headers(client, "moderator")
    acted = await client.post(
        f"/api/v1/moderation/cases/{case_id}/actions", json={"kind": "hide", "reason": "insult"}, headers=moderator
    )
    assert acted.status_code == 201, acted.text
    member = await client.get(
        f"/api/v1/messages/{message_id}/thread", headers=await tenant.headers(client, "supervisor")
    )
    assert member.json()["root"]["moderation"] == "hidden"
    assert member.json()["root"]["body"] == ""
    export = await client.get("/api/v1/moderation/audit.csv", headers=await tenant.headers(client, "admin"))
    assert "moderation.hide" in export.text
    assert "rude words" in export.text


async def test_an_action_is_appealed_once(
    client: AsyncTestClient[Litestar], runtime: Runtime, tenant: TenantKit
) -> None:
    case_id, _ = await flagged_case(client, runtime, tenant)
    acted = await client.post(
        f"/api/v1/moderation/cases/{case_id}/actions",
        json={"kind": "mute", "reason": "cool down", "mute_minutes": 60},
        headers=await tenant.headers(client, "moderator"),
    )
    author = await tenant.headers(client, "staff")
    body = {"action_id": acted.json()["id"], "statement": "it was a joke"}
    first = await client.post("/api/v1/moderation/appeals", json=body, headers=author)
    second = await client.post("/api/v1/moderation/appeals", json=body, headers=author)
    assert (first.status_code, second.status_code) == (201, 409)
    assert second.json()["error"]["code"] == "already_appealed"


async def test_a_catastrophic_rule_is_refused(client: AsyncTestClient[Litestar], tenant: TenantKit) -> None:
    response = await client.post(
        "/api/v1/moderation/rules",
        json={"name": "bad", "kind": "regex", "action": "flag", "pattern": "(a+)+$"},
        headers=await tenant.headers(client, "moderator"),
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_rule"
    rules = await client.get("/api/v1/moderation/rules", headers=await tenant.headers(client, "moderator"))
    assert rules.json() == []


async def test_changing_a_rule_to_a_catastrophic_pattern_is_refused_and_keeps_the_rule(
    client: AsyncTestClient[Litestar], tenant: TenantKit
) -> None:
    moderator = await tenant.headers(client, "moderator")
    created = await client.post(
        "/api/v1/moderation/rules",
        json={"name": "pins", "kind": "regex", "action": "mask", "pattern": r"\d{4}"},
        headers=moderator,
    )
    assert created.status_code == 201, created.text
    rule_id = created.json()["id"]
    changed = await client.patch(f"/api/v1/moderation/rules/{rule_id}", json={"pattern": "(x+x+)+y"}, headers=moderator)
    assert (changed.status_code, changed.json()["error"]["code"]) == (422, "invalid_rule")
    (rule,) = (await client.get("/api/v1/moderation/rules", headers=moderator)).json()
    assert rule["pattern"] == r"\d{4}"
    audit = await client.get(
        "/api/v1/moderation/audit",
        params={"action": "moderation.rule.update"},
        headers=await tenant.headers(client, "admin"),
    )
    assert audit.json()["total"] == 0
