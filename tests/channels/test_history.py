"""History pages by seq and full-text search that respects membership and tenant."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, update

from api.runtime import Runtime
from channels.conversations import Conversations
from channels.history import History
from persistence.models import Message, MessageModeration
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


async def test_a_hidden_message_is_found_by_its_author_only(runtime: Runtime, tenant: TenantKit) -> None:
    conversation_id = await channel(runtime, tenant, members=("staff", "supervisor"))
    message = await say(runtime, tenant, "staff", conversation_id, "offensive remark")
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        session.add(
            MessageModeration(
                tenant_id=tenant.id, message_id=message.id, conversation_id=conversation_id, state="hidden"
            )
        )
    assert await _search(runtime, tenant, "supervisor", "offensive") == []
    assert await _search(runtime, tenant, "staff", "offensive") == ["offensive remark"]


async def test_search_narrows_to_one_conversation_newest_first(runtime: Runtime, tenant: TenantKit) -> None:
    here = await channel(runtime, tenant, members=("staff",))
    elsewhere = await channel(runtime, tenant, members=("staff",))
    for n in range(3):
        await say(runtime, tenant, "staff", here, f"restock aisle {n}")
    await say(runtime, tenant, "staff", elsewhere, "restock aisle 9")

    async def run(conversations: Conversations) -> list[str]:
        hits = await History(conversations=conversations).search("restock", conversation_id=here)
        return [hit.message.body for hit in hits]

    assert await as_user(runtime, tenant, "staff", run) == ["restock aisle 2", "restock aisle 1", "restock aisle 0"]


async def test_search_filters_by_author_and_time(runtime: Runtime, tenant: TenantKit) -> None:
    conversation_id = await channel(runtime, tenant, members=("staff", "supervisor"))
    old = await say(runtime, tenant, "staff", conversation_id, "pallet delivered late")
    await say(runtime, tenant, "staff", conversation_id, "pallet delivered today")
    await say(runtime, tenant, "supervisor", conversation_id, "pallet checked")
    last_week = datetime.now(UTC) - timedelta(days=7)
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        await session.execute(update(Message).where(Message.id == old.id).values(created_at=last_week))

    async def run(conversations: Conversations) -> tuple[list[str], list[str]]:
        history = History(conversations=conversations)
        by_staff = await history.search("pallet", author_id=tenant.users["staff"])
        recent = await history.search("pallet", since=last_week + timedelta(days=1))
        return sorted(h.message.body for h in by_staff), sorted(h.message.body for h in recent)

    by_staff, recent = await as_user(runtime, tenant, "supervisor", run)
    assert by_staff == ["pallet delivered late", "pallet delivered today"]
    assert recent == ["pallet checked", "pallet delivered today"]


async def test_the_search_function_finds_nothing_without_a_tenant(runtime: Runtime, tenant: TenantKit) -> None:
    conversation_id = await channel(runtime, tenant, members=("staff",))
    await say(runtime, tenant, "staff", conversation_id, "unfenced query")
    async with runtime.db.transaction() as session:
        found = await session.scalars(
            select(
                func.fieldhub_search_messages(
                    func.websearch_to_tsquery("simple", "unfenced"), tenant.users["staff"], None, None, None, None, 20
                )
            )
        )
        assert list(found) == []
