"""Messages: gap-free seq under concurrent senders, idempotent send, threads, edits, deletes, reactions."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

from api.runtime import Runtime
from channels.conversations import Conversations
from channels.errors import ChatError
from channels.messages import Messages
from persistence.models import Conversation, ConversationEvent, Message, MessageEdit
from tests.channels.chat import as_user, channel, say
from tests.kit import TenantKit


async def test_concurrent_senders_get_a_gap_free_sequence(runtime: Runtime, tenant: TenantKit) -> None:
    conversation_id = await channel(runtime, tenant, members=("staff", "supervisor", "moderator"))
    senders = ["staff", "supervisor", "moderator", "admin"] * 10
    await asyncio.gather(*(say(runtime, tenant, who, conversation_id, f"hello {n}") for n, who in enumerate(senders)))
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        seqs = list(
            await session.scalars(
                select(ConversationEvent.seq)
                .where(ConversationEvent.conversation_id == conversation_id)
                .order_by(ConversationEvent.seq)
            )
        )
        conversation = await session.get_one(Conversation, conversation_id)
    assert seqs == list(range(1, len(seqs) + 1))
    assert conversation.last_seq == len(seqs) == 4 + len(senders)


async def test_a_retried_send_returns_the_original_and_stores_nothing_new(runtime: Runtime, tenant: TenantKit) -> None:
    conversation_id = await channel(runtime, tenant, members=("staff",))
    first = await say(runtime, tenant, "staff", conversation_id, "on my way", client_id="retry-1")

    async def again(conversations: Conversations) -> tuple[object, bool]:
        return await Messages(conversations=conversations).send(conversation_id, body="on my way", client_id="retry-1")

    retried, created = await as_user(runtime, tenant, "staff", again)
    assert created is False
    assert retried.id == first.id  # type: ignore[attr-defined]
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        count = len((await session.scalars(select(Message).where(Message.conversation_id == conversation_id))).all())
    assert count == 1


async def test_concurrent_retries_store_one_message(runtime: Runtime, tenant: TenantKit) -> None:
    conversation_id = await channel(runtime, tenant, members=("staff",))
    sent = await asyncio.gather(
        *(say(runtime, tenant, "staff", conversation_id, "once", client_id="same") for _ in range(5))
    )
    assert len({m.id for m in sent}) == 1


@pytest.mark.parametrize(("body", "code"), [("   ", "invalid_message"), ("x" * 4001, "message_too_long")])
async def test_empty_and_oversized_messages_are_refused(
    runtime: Runtime, tenant: TenantKit, body: str, code: str
) -> None:
    conversation_id = await channel(runtime, tenant, members=("staff",))
    with pytest.raises(ChatError) as refused:
        await say(runtime, tenant, "staff", conversation_id, body)
    assert refused.value.code == code


async def test_a_non_member_cannot_post_in_a_public_channel(runtime: Runtime, tenant: TenantKit) -> None:
    conversation_id = await channel(runtime, tenant)
    with pytest.raises(ChatError) as refused:
        await say(runtime, tenant, "staff", conversation_id, "hi")
    assert refused.value.code == "not_member"


async def test_a_refused_send_leaves_no_seq_gap(runtime: Runtime, tenant: TenantKit) -> None:
    conversation_id = await channel(runtime, tenant, members=("staff",))
    with pytest.raises(ChatError):
        await say(runtime, tenant, "staff", conversation_id, "x" * 5000)
    message = await say(runtime, tenant, "staff", conversation_id, "fine")
    assert message.seq == 3


async def test_a_reply_updates_its_thread_root(runtime: Runtime, tenant: TenantKit) -> None:
    conversation_id = await channel(runtime, tenant, members=("staff", "supervisor"))
    root = await say(runtime, tenant, "staff", conversation_id, "shelf 4 is empty")
    await say(runtime, tenant, "supervisor", conversation_id, "restock coming", thread_root_id=root.id)
    await say(runtime, tenant, "staff", conversation_id, "thanks", thread_root_id=root.id)
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        stored = await session.get_one(Message, root.id)
    assert stored.reply_count == 2
    assert stored.thread_participants == [tenant.users["supervisor"], tenant.users["staff"]]


async def test_a_thread_root_from_another_conversation_is_refused(runtime: Runtime, tenant: TenantKit) -> None:
    here = await channel(runtime, tenant, members=("staff",))
    elsewhere = await channel(runtime, tenant, members=("staff",))
    root = await say(runtime, tenant, "staff", elsewhere, "root")
    with pytest.raises(ChatError) as refused:
        await say(runtime, tenant, "staff", here, "reply", thread_root_id=root.id)
    assert refused.value.code == "invalid_thread"


async def test_an_edit_keeps_the_previous_text(runtime: Runtime, tenant: TenantKit) -> None:
    conversation_id = await channel(runtime, tenant, members=("staff",))
    message = await say(runtime, tenant, "staff", conversation_id, "at store 12")
    edited = await as_user(
        runtime, tenant, "staff", lambda c: Messages(conversations=c).edit(message.id, "at store 21")
    )
    assert (edited.body, edited.edited_at is not None) == ("at store 21", True)
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        history = (await session.scalars(select(MessageEdit).where(MessageEdit.message_id == message.id))).all()
    assert [h.previous_body for h in history] == ["at store 12"]


async def test_only_the_author_edits(runtime: Runtime, tenant: TenantKit) -> None:
    conversation_id = await channel(runtime, tenant, members=("staff", "supervisor"))
    message = await say(runtime, tenant, "staff", conversation_id, "mine")
    with pytest.raises(ChatError) as refused:
        await as_user(runtime, tenant, "supervisor", lambda c: Messages(conversations=c).edit(message.id, "theirs"))
    assert refused.value.code == "forbidden"


async def test_a_deleted_message_keeps_only_its_tombstone(runtime: Runtime, tenant: TenantKit) -> None:
    conversation_id = await channel(runtime, tenant, members=("staff",))
    message = await say(runtime, tenant, "staff", conversation_id, "my phone is 555 0100 https://x.example")
    await as_user(runtime, tenant, "staff", lambda c: Messages(conversations=c).react(message.id, "👍", add=True))
    tombstone = await as_user(runtime, tenant, "staff", lambda c: Messages(conversations=c).delete(message.id))
    assert (tombstone.deleted, tombstone.body, tombstone.links, tombstone.reactions) == (True, "", [], [])
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        stored = await session.get_one(Message, message.id)
        events = list(
            await session.scalars(select(ConversationEvent.payload).where(ConversationEvent.message_id == message.id))
        )
    assert stored.body == ""
    assert len(events) >= 3
    assert not [e for e in events if "555 0100" in str(e)]


async def test_a_reaction_is_once_per_user_and_toggles(runtime: Runtime, tenant: TenantKit) -> None:
    conversation_id = await channel(runtime, tenant, members=("staff", "supervisor"))
    message = await say(runtime, tenant, "staff", conversation_id, "done")

    def react(role: str, add: bool) -> object:
        return as_user(runtime, tenant, role, lambda c: Messages(conversations=c).react(message.id, "✅", add=add))

    assert await react("staff", True) is True
    assert await react("staff", True) is False
    assert await react("supervisor", True) is True
    view = await as_user(runtime, tenant, "staff", lambda c: Messages(conversations=c).view_by_id(message.id))
    assert [(r.emoji, r.count) for r in view.reactions] == [("✅", 2)]
    assert await react("staff", False) is True


async def test_a_reaction_must_be_one_emoji(runtime: Runtime, tenant: TenantKit) -> None:
    conversation_id = await channel(runtime, tenant, members=("staff",))
    message = await say(runtime, tenant, "staff", conversation_id, "done")
    with pytest.raises(ChatError) as refused:
        await as_user(
            runtime, tenant, "staff", lambda c: Messages(conversations=c).react(message.id, "<img src=x>", add=True)
        )
    assert refused.value.code == "invalid_emoji"


async def test_mentions_keep_only_members(runtime: Runtime, tenant: TenantKit, other_tenant: TenantKit) -> None:
    conversation_id = await channel(runtime, tenant, members=("staff", "supervisor"))
    body = f"<@{tenant.users['supervisor']}> and <@{other_tenant.users['admin']}> and <@{tenant.users['moderator']}>"
    message = await say(runtime, tenant, "staff", conversation_id, body)
    assert message.mentions == [tenant.users["supervisor"]]
