"""Read state: unread and mention counts stay right through edits, deletes and thread replies."""

from __future__ import annotations

from api.runtime import Runtime
from channels.messages import Messages
from channels.reading import ReadState, ThreadUnread, Unread
from tests.channels.chat import as_user, channel, say
from tests.kit import TenantKit


async def _unread(runtime: Runtime, tenant: TenantKit, role: str, conversation_id: object) -> Unread:
    rows = await as_user(runtime, tenant, role, lambda c: ReadState(conversations=c).unread())
    return next(r for r in rows if r.conversation_id == conversation_id)


async def test_messages_from_others_count_as_unread_and_mentions(runtime: Runtime, tenant: TenantKit) -> None:
    conversation_id = await channel(runtime, tenant, members=("staff", "supervisor"))
    await say(runtime, tenant, "supervisor", conversation_id, "morning all")
    await say(runtime, tenant, "supervisor", conversation_id, f"<@{tenant.users['staff']}> check aisle 3")
    await say(runtime, tenant, "staff", conversation_id, "my own message")
    counts = await _unread(runtime, tenant, "staff", conversation_id)
    assert (counts.unread, counts.mentions) == (0, 0)  # sending marks everything before it read
    await say(runtime, tenant, "supervisor", conversation_id, f"<@{tenant.users['staff']}> and the fridge")
    counts = await _unread(runtime, tenant, "staff", conversation_id)
    assert (counts.unread, counts.mentions) == (1, 1)


async def test_a_deleted_message_stops_counting(runtime: Runtime, tenant: TenantKit) -> None:
    conversation_id = await channel(runtime, tenant, members=("staff", "supervisor"))
    message = await say(runtime, tenant, "supervisor", conversation_id, f"<@{tenant.users['staff']}> ping")
    await as_user(runtime, tenant, "supervisor", lambda c: Messages(conversations=c).delete(message.id))
    counts = await _unread(runtime, tenant, "staff", conversation_id)
    assert (counts.unread, counts.mentions) == (0, 0)


async def test_an_edit_that_removes_a_mention_stops_counting_it(runtime: Runtime, tenant: TenantKit) -> None:
    conversation_id = await channel(runtime, tenant, members=("staff", "supervisor"))
    message = await say(runtime, tenant, "supervisor", conversation_id, f"<@{tenant.users['staff']}> ping")
    await as_user(runtime, tenant, "supervisor", lambda c: Messages(conversations=c).edit(message.id, "never mind"))
    counts = await _unread(runtime, tenant, "staff", conversation_id)
    assert (counts.unread, counts.mentions) == (1, 0)


async def test_reading_never_moves_backwards_or_past_the_end(runtime: Runtime, tenant: TenantKit) -> None:
    conversation_id = await channel(runtime, tenant, members=("staff", "supervisor"))
    last = await say(runtime, tenant, "supervisor", conversation_id, "one")
    moved = await as_user(
        runtime, tenant, "staff", lambda c: ReadState(conversations=c).mark_read(conversation_id, 999)
    )
    assert moved == last.seq
    back = await as_user(runtime, tenant, "staff", lambda c: ReadState(conversations=c).mark_read(conversation_id, 1))
    assert back == last.seq


async def test_thread_replies_count_per_followed_thread(runtime: Runtime, tenant: TenantKit) -> None:
    conversation_id = await channel(runtime, tenant, members=("staff", "supervisor"))
    root = await say(runtime, tenant, "staff", conversation_id, "fridge broken")
    await say(runtime, tenant, "supervisor", conversation_id, "calling repair", thread_root_id=root.id)
    await say(runtime, tenant, "supervisor", conversation_id, "they come at 3", thread_root_id=root.id)
    threads = await as_user(runtime, tenant, "staff", lambda c: ReadState(conversations=c).unread_threads())
    assert threads == [ThreadUnread(root_id=root.id, conversation_id=conversation_id, unread=2)]
    counts = await _unread(runtime, tenant, "staff", conversation_id)
    assert counts.unread == 0  # replies are counted on the thread, not the channel


async def test_mark_all_read_clears_every_conversation(runtime: Runtime, tenant: TenantKit) -> None:
    first = await channel(runtime, tenant, members=("staff",))
    second = await channel(runtime, tenant, members=("staff",))
    await say(runtime, tenant, "admin", first, "a")
    await say(runtime, tenant, "admin", second, "b")
    await as_user(runtime, tenant, "staff", lambda c: ReadState(conversations=c).mark_all_read())
    assert (await _unread(runtime, tenant, "staff", first)).unread == 0
    assert (await _unread(runtime, tenant, "staff", second)).unread == 0
