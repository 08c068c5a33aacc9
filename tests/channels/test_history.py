"""History pages by seq and full-text search that respects membership and tenant."""

from __future__ import annotations

from api.runtime import Runtime
from channels.conversations import Conversations
from channels.history import History
from tests.channels.chat import as_user, channel, say
from tests.kit import TenantKit


async def test_pages_walk_back_through_history_without_overlap(runtime: Runtime, tenant: TenantKit) -> None:
    conversation_id = await channel(runtime, tenant, members=("staff",))
    for n in range(12):
        await say(runtime, tenant, "staff", conversation_id, f"message {n}")
    latest = await as_user(runtime, tenant, "staff", lambda c: History(conversations=c).page(conversation_id, limit=5))
    assert [m.body for m in latest.messages] == [f"message {n}" for n in range(7, 12)]
    assert (latest.has_before, latest.has_after) == (True, False)
    older = await as_user(
        runtime,
        tenant,
        "staff",
        lambda c: History(conversations=c).page(conversation_id, before=latest.messages[0].seq, limit=5),
    )
    assert [m.body for m in older.messages] == [f"message {n}" for n in range(2, 7)]
    assert older.has_after is True


async def test_around_centres_on_a_message(runtime: Runtime, tenant: TenantKit) -> None:
    conversation_id = await channel(runtime, tenant, members=("staff",))
    sent = [await say(runtime, tenant, "staff", conversation_id, f"m{n}") for n in range(9)]
    page = await as_user(
        runtime, tenant, "staff", lambda c: History(conversations=c).page(conversation_id, around=sent[4].seq, limit=4)
    )
    assert [m.body for m in page.messages] == ["m2", "m3", "m4", "m5"]


async def _search(runtime: Runtime, tenant: TenantKit, role: str, query: str) -> list[str]:
    async def run(conversations: Conversations) -> list[str]:
        return [hit.message.body for hit in await History(conversations=conversations).search(query)]

    return await as_user(runtime, tenant, role, run)


async def test_search_finds_words_and_highlights_them(runtime: Runtime, tenant: TenantKit) -> None:
    conversation_id = await channel(runtime, tenant, members=("staff",))
    await say(runtime, tenant, "staff", conversation_id, "the freezer at store 7 is leaking")

    async def run(conversations: Conversations) -> tuple[str, list[tuple[int, int]]]:
        hit = (await History(conversations=conversations).search("freezer leaking"))[0]
        return hit.snippet, hit.highlights

    snippet, highlights = await as_user(runtime, tenant, "staff", run)
    assert [snippet[a:b] for a, b in highlights] == ["freezer", "leaking"]


async def test_search_skips_private_conversations_of_others(runtime: Runtime, tenant: TenantKit) -> None:
    private = await as_user(
        runtime, tenant, "admin", lambda c: c.create_channel(name="payroll-secrets", kind="private")
    )
    await say(runtime, tenant, "admin", private.id, "salary bands attached")
    assert await _search(runtime, tenant, "staff", "salary") == []
    assert await _search(runtime, tenant, "admin", "salary") == ["salary bands attached"]


async def test_search_never_crosses_tenants(runtime: Runtime, tenant: TenantKit, other_tenant: TenantKit) -> None:
    conversation_id = await channel(runtime, other_tenant, members=("staff",))
    await say(runtime, other_tenant, "staff", conversation_id, "competitor pricing list")
    assert await _search(runtime, tenant, "admin", "competitor") == []


async def test_deleted_messages_are_not_found(runtime: Runtime, tenant: TenantKit) -> None:
    from channels.messages import Messages

    conversation_id = await channel(runtime, tenant, members=("staff",))
    message = await say(runtime, tenant, "staff", conversation_id, "typo-ridden draft")
    await as_user(runtime, tenant, "staff", lambda c: Messages(conversations=c).delete(message.id))
    assert await _search(runtime, tenant, "staff", "draft") == []
