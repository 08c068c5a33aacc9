"""Rules in the send path: block, mask, hold and flag; unsafe patterns are refused."""

from __future__ import annotations

from typing import Any

import pytest

from api.runtime import Runtime
from channels.errors import ChatError
from channels.history import History
from channels.moderation.cases import CaseQueue
from channels.moderation.patterns import compile_pattern
from channels.moderation.rulebook import Rulebook
from channels.moderation.screening import counted
from tests.channels.chat import as_user, channel, say
from tests.channels.moderation.moderation_kit import as_moderation
from tests.kit import TenantKit


async def add_rule(runtime: Runtime, tenant: TenantKit, **fields: Any) -> None:
    await as_moderation(runtime, tenant, "moderator", lambda ctx, _: Rulebook(ctx).create({"name": "r", **fields}))


async def test_a_blocking_rule_refuses_the_message(runtime: Runtime, tenant: TenantKit) -> None:
    room = await channel(runtime, tenant, members=("staff",))
    await add_rule(runtime, tenant, kind="words", action="block", terms=["forbidden phrase"])
    with pytest.raises(ChatError) as refusal:
        await say(runtime, tenant, "staff", room, "this has a Forbidden  phrase in it")
    assert refusal.value.code == "blocked_by_rule"


async def test_a_disabled_rule_stops_firing_in_the_send_path(runtime: Runtime, tenant: TenantKit) -> None:
    room = await channel(runtime, tenant, members=("staff",))
    rule = await as_moderation(
        runtime,
        tenant,
        "moderator",
        lambda ctx, _: Rulebook(ctx).create({"name": "r", "kind": "words", "action": "block", "terms": ["tabu"]}),
    )
    await as_moderation(runtime, tenant, "moderator", lambda ctx, _: Rulebook(ctx).update(rule.id, {"enabled": False}))
    message = await say(runtime, tenant, "staff", room, "tabu is fine now")
    assert message.body == "tabu is fine now"


async def test_a_masking_rule_stores_the_masked_text(runtime: Runtime, tenant: TenantKit) -> None:
    room = await channel(runtime, tenant, members=("staff",))
    await add_rule(runtime, tenant, kind="regex", action="mask", pattern=r"\b\d{4}-\d{4}\b")
    message = await say(runtime, tenant, "staff", room, "call 1234-5678 now")
    assert message.body == "call ********* now"


async def test_a_held_message_is_hidden_from_others_until_approved(runtime: Runtime, tenant: TenantKit) -> None:
    room = await channel(runtime, tenant, members=("staff", "supervisor"))
    await add_rule(runtime, tenant, kind="words", action="hold", terms=["meet me"])
    sent = await say(runtime, tenant, "staff", room, "meet me outside")
    assert sent.moderation == "held"
    others = await as_user(runtime, tenant, "supervisor", lambda c: History(conversations=c).page(room))
    seen = next(m for m in others.messages if m.id == sent.id)
    assert (seen.body, seen.moderation) == ("", "held")
    own = await as_user(runtime, tenant, "staff", lambda c: History(conversations=c).page(room))
    assert next(m for m in own.messages if m.id == sent.id).body == "meet me outside"


async def test_a_flagging_rule_opens_a_case(runtime: Runtime, tenant: TenantKit) -> None:
    room = await channel(runtime, tenant, members=("staff",))
    await add_rule(runtime, tenant, kind="link_domain", action="flag", terms=["bad.example"])
    sent = await say(runtime, tenant, "staff", room, "see https://www.bad.example/x")
    cases = await as_moderation(runtime, tenant, "moderator", lambda ctx, _: CaseQueue(ctx).list())
    assert [c.message_id for c in cases] == [sent.id]


@pytest.mark.parametrize("pattern", [r"(a+)+$", r"(\w*)*x", r"(a|aa)*b", r"(x)\1", "[unclosed"])
def test_unsafe_or_invalid_patterns_are_refused(pattern: str) -> None:
    with pytest.raises(ChatError) as refusal:
        compile_pattern(pattern)
    assert refusal.value.code == "invalid_rule"


async def test_a_blocked_send_still_counts_as_a_firing(runtime: Runtime, tenant: TenantKit) -> None:
    room = await channel(runtime, tenant, members=("staff",))
    await add_rule(runtime, tenant, kind="words", action="block", terms=["forbidden"])
    for _ in range(3):
        with pytest.raises(ChatError):
            await say(runtime, tenant, "staff", room, "forbidden words")
    await counted()
    (rule,) = await as_moderation(runtime, tenant, "moderator", lambda ctx, _: Rulebook(ctx).list())
    assert rule.fired_count == 3
    # The refused messages themselves were not stored.
    page = await as_user(runtime, tenant, "staff", lambda c: History(conversations=c).page(room))
    assert page.messages == []
