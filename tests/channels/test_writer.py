"""The group-commit writer: sends waiting for one conversation share one transaction, each message
refused or stored on its own, a retry finds its original, a database failure stores nothing."""

from __future__ import annotations

import asyncio
from uuid import UUID

from sqlalchemy import func, select, text

from api.runtime import Runtime
from channels.batch import SendRequest, Sent
from channels.errors import ChatError
from channels.moderation.rulebook import Rulebook
from channels.moderation.screening import counted
from channels.writer import SendWriter
from persistence.models import Conversation, ConversationEvent, ConversationMember, Message
from tests.channels.chat import channel
from tests.channels.moderation.moderation_kit import as_moderation
from tests.kit import TenantKit, eventually


def _request(tenant: TenantKit, role: str, body: str, client_id: str) -> SendRequest:
    return SendRequest(author_id=tenant.users[role], body=body, client_id=client_id)


async def _send_all(
    sends: SendWriter, tenant: TenantKit, conversation_id: UUID, requests: list[SendRequest]
) -> list[Sent | BaseException]:
    """Send ``requests`` at once: they wait for the same conversation, so they join one batch."""
    return await asyncio.gather(*(sends.send(tenant.id, conversation_id, r) for r in requests), return_exceptions=True)


async def _stored(runtime: Runtime, tenant: TenantKit, conversation_id: UUID) -> list[Message]:
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        rows = await session.scalars(
            select(Message).where(Message.conversation_id == conversation_id).order_by(Message.seq)
        )
        return list(rows)


async def _last_seq(runtime: Runtime, tenant: TenantKit, conversation_id: UUID) -> int:
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        return (await session.get_one(Conversation, conversation_id)).last_seq


async def test_concurrent_senders_share_one_transaction_and_get_consecutive_seqs(
    runtime: Runtime, tenant: TenantKit, sends: SendWriter
) -> None:
    room = await channel(runtime, tenant, members=("staff", "supervisor", "moderator"))
    before = await _last_seq(runtime, tenant, room)
    senders = ["staff", "supervisor", "moderator", "admin"] * 10
    results = await _send_all(
        sends, tenant, room, [_request(tenant, who, f"hello {n}", f"c{n}") for n, who in enumerate(senders)]
    )
    assert all(isinstance(r, Sent) and r.created for r in results)
    seqs = [r.message.seq for r in results if isinstance(r, Sent)]
    assert seqs == list(range(before + 1, before + 1 + len(senders)))
    stored = await _stored(runtime, tenant, room)
    assert [m.seq for m in stored] == seqs
    # One transaction stored them all: they share its clock.
    assert len({m.created_at for m in stored}) == 1
    assert await _last_seq(runtime, tenant, room) == seqs[-1]


async def test_each_sender_has_read_up_to_their_last_message_of_the_batch(
    runtime: Runtime, tenant: TenantKit, sends: SendWriter
) -> None:
    room = await channel(runtime, tenant, members=("staff", "supervisor"))
    results = await _send_all(
        sends,
        tenant,
        room,
        [
            _request(tenant, "staff", "a", "a"),
            _request(tenant, "supervisor", "b", "b"),
            _request(tenant, "staff", "c", "c"),
        ],
    )
    last = {r.message.author_id: r.message.seq for r in results if isinstance(r, Sent)}
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        rows = await session.execute(
            select(ConversationMember.user_id, ConversationMember.last_read_seq).where(
                ConversationMember.conversation_id == room
            )
        )
        read = dict(rows.tuples().all())
    assert read[tenant.users["staff"]] == last[tenant.users["staff"]]
    assert read[tenant.users["supervisor"]] == last[tenant.users["supervisor"]]


async def test_a_retry_in_the_same_batch_gets_the_original(
    runtime: Runtime, tenant: TenantKit, sends: SendWriter
) -> None:
    room = await channel(runtime, tenant, members=("staff",))
    first, retry = await _send_all(
        sends, tenant, room, [_request(tenant, "staff", "once", "same"), _request(tenant, "staff", "once", "same")]
    )
    assert isinstance(first, Sent)
    assert isinstance(retry, Sent)
    assert (first.created, retry.created, retry.message.id) == (True, False, first.message.id)
    assert [m.id for m in await _stored(runtime, tenant, room)] == [first.message.id]


async def test_a_retry_while_the_original_is_being_committed_gets_the_original(
    runtime: Runtime, tenant: TenantKit, sends: SendWriter
) -> None:
    room = await channel(runtime, tenant, members=("staff",))
    async with runtime.db.transaction(tenant_id=tenant.id) as holder:
        # Another writer holds the conversation: the original's batch waits for the lock, in flight.
        await holder.execute(select(Conversation.id).where(Conversation.id == room).with_for_update())
        original = asyncio.create_task(sends.send(tenant.id, room, _request(tenant, "staff", "hi", "inflight")))

        async def waiting_for_the_lock() -> int:
            # A transaction of its own each time: one transaction sees the activity as it first read it.
            async with runtime.db.transaction(tenant_id=tenant.id) as session:
                waiting = await session.scalar(
                    text(
                        "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()"
                    )
                )
            return int(waiting or 0)

        await eventually(waiting_for_the_lock)
        retry = asyncio.create_task(sends.send(tenant.id, room, _request(tenant, "staff", "hi", "inflight")))
    first, again = await original, await retry
    assert (first.created, again.created, again.message.id) == (True, False, first.message.id)
    assert len(await _stored(runtime, tenant, room)) == 1


async def test_a_refused_message_does_not_fail_its_neighbours_or_leave_a_gap(
    runtime: Runtime, tenant: TenantKit, sends: SendWriter
) -> None:
    room = await channel(runtime, tenant, members=("staff", "supervisor"))
    before = await _last_seq(runtime, tenant, room)
    results = await _send_all(
        sends,
        tenant,
        room,
        [
            _request(tenant, "staff", "first", "1"),
            _request(tenant, "supervisor", "x" * 4001, "2"),
            _request(tenant, "moderator", "not a member", "3"),
            _request(tenant, "staff", "null \x00 byte", "4"),
            _request(tenant, "supervisor", "last", "5"),
        ],
    )
    codes = [r.code if isinstance(r, ChatError) else None for r in results]
    assert codes == [None, "message_too_long", "not_member", "invalid_message", None]
    assert [r.message.seq for r in results if isinstance(r, Sent)] == [before + 1, before + 2]
    assert [m.body for m in await _stored(runtime, tenant, room)] == ["first", "last"]
    assert await _last_seq(runtime, tenant, room) == before + 2


async def test_a_blocked_message_in_a_batch_is_refused_and_counted_alone(
    runtime: Runtime, tenant: TenantKit, sends: SendWriter
) -> None:
    room = await channel(runtime, tenant, members=("staff",))
    await as_moderation(
        runtime,
        tenant,
        "moderator",
        lambda ctx, _: Rulebook(ctx).create({"name": "r", "kind": "words", "action": "block", "terms": ["forbidden"]}),
    )
    results = await _send_all(
        sends,
        tenant,
        room,
        [
            _request(tenant, "staff", "fine", "1"),
            _request(tenant, "staff", "forbidden", "2"),
            _request(tenant, "staff", "ok", "3"),
        ],
    )
    assert [r.code if isinstance(r, ChatError) else r.created for r in results] == [True, "blocked_by_rule", True]
    await counted()
    (rule,) = await as_moderation(runtime, tenant, "moderator", lambda ctx, _: Rulebook(ctx).list())
    assert rule.fired_count == 1
    assert [m.body for m in await _stored(runtime, tenant, room)] == ["fine", "ok"]


async def test_a_database_failure_fails_the_whole_batch_and_stores_nothing(
    runtime: Runtime, tenant: TenantKit, sends: SendWriter, failing_events: str
) -> None:
    room = await channel(runtime, tenant, members=("staff", "supervisor"))
    before = await _last_seq(runtime, tenant, room)
    requests = [
        _request(tenant, "staff", "fine", "1"),
        _request(tenant, "supervisor", failing_events, "2"),
        _request(tenant, "staff", "also fine", "3"),
    ]
    results = await _send_all(sends, tenant, room, requests)
    assert [r.code if isinstance(r, ChatError) else r for r in results] == ["unavailable"] * 3
    assert await _stored(runtime, tenant, room) == []
    assert await _last_seq(runtime, tenant, room) == before
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        events = await session.scalar(
            select(func.count()).where(ConversationEvent.conversation_id == room, ConversationEvent.seq > before)
        )
    assert events == 0


async def test_retries_after_a_failed_batch_are_stored_once(
    runtime: Runtime, tenant: TenantKit, sends: SendWriter, failing_events: str
) -> None:
    room = await channel(runtime, tenant, members=("staff",))
    failed = await _send_all(
        sends, tenant, room, [_request(tenant, "staff", "fine", "1"), _request(tenant, "staff", failing_events, "2")]
    )
    assert all(isinstance(r, ChatError) for r in failed)
    retried = await _send_all(
        sends, tenant, room, [_request(tenant, "staff", "fine", "1"), _request(tenant, "staff", "reworded", "2")]
    )
    assert [r.created for r in retried if isinstance(r, Sent)] == [True, True]
    assert [m.client_id for m in await _stored(runtime, tenant, room)] == ["1", "2"]
