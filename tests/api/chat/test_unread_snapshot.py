"""Unread counts and ``last_seq`` answered together come from one snapshot.

A client takes a conversation's ``last_seq`` as known and counts every live message past it as new.
If the unread count included a message beyond that ``last_seq`` (or left one out below it), the
badge would be off by one for good. These tests force the race deterministically: before every
statement the request runs about the conversation or its reader, another connection commits a new
message from someone else, so a handler that reads ``last_seq`` and the counts in separate
statements always sees them disagree.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from uuid import UUID, uuid4

from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import event, func, select
from sqlalchemy.util import await_only

from api.runtime import Runtime
from channels.conversations import Conversations
from channels.effects import Effects
from channels.messages import Messages
from persistence.models import Message
from tests.channels.chat import as_user, channel
from tests.kit import TenantKit


@contextmanager
def a_message_before_each_read(
    app: Litestar, tenant: TenantKit, conversation_id: UUID, *, reader: UUID, author: UUID
) -> Iterator[list[int]]:
    """While open, each statement the app runs with ``conversation_id`` or ``reader`` among its
    parameters first waits for ``author`` to commit a message in the conversation (on another
    connection of the app's pool). Yields the seqs of the messages committed so far."""
    app_runtime: Runtime = app.state.runtime
    watched = {str(conversation_id), str(reader)}
    committed: list[int] = []
    busy = False

    async def send() -> None:
        async with app_runtime.db.transaction(tenant_id=tenant.id) as session:
            conversations = Conversations(session=session, tenant_id=tenant.id, user_id=author, effects=Effects())
            message, _ = await Messages(conversations=conversations).send(
                conversation_id, body=f"meanwhile {len(committed)}", client_id=uuid4().hex
            )
        committed.append(message.seq)

    def before(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        nonlocal busy
        values = parameters if isinstance(parameters, tuple | list) else tuple((parameters or {}).values())
        if busy or executemany or not watched & {str(v) for v in values}:
            return
        busy = True
        try:
            await_only(send())  # the request's statement runs only after this message is committed
        finally:
            busy = False

    engine = app_runtime.db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", before)
    try:
        yield committed
    finally:
        event.remove(engine, "before_cursor_execute", before)


async def _counted_by_then(
    runtime: Runtime, tenant: TenantKit, conversation_id: UUID, *, reader: UUID, after: int, upto: int
) -> int:
    """How many top-level messages from others lie in ``(after, upto]``: what the unread count must say."""

    async def count(conversations: Conversations) -> int:
        total = await conversations.session.scalar(
            select(func.count()).where(
                Message.conversation_id == conversation_id,
                Message.seq > after,
                Message.seq <= upto,
                Message.thread_root_id.is_(None),
                Message.deleted_at.is_(None),
                Message.author_id != reader,
            )
        )
        return int(total or 0)

    return await as_user(runtime, tenant, "staff", count)


async def _assert_counted_up_to_last_seq(
    runtime: Runtime, tenant: TenantKit, conversation_id: UUID, reader: UUID, summary: dict[str, Any]
) -> None:
    """The summary's unread count is exactly the others' messages after its read position up to its last_seq."""
    expected = await _counted_by_then(
        runtime,
        tenant,
        conversation_id,
        reader=reader,
        after=summary["membership"]["last_read_seq"],
        upto=summary["conversation"]["last_seq"],
    )
    assert summary["unread"] == expected


async def test_one_conversation_s_unread_count_covers_exactly_the_messages_up_to_its_last_seq(
    client: AsyncTestClient[Litestar], app: Litestar, runtime: Runtime, tenant: TenantKit
) -> None:
    conversation_id = await channel(runtime, tenant, members=("staff", "supervisor"))
    staff, headers = tenant.users["staff"], await tenant.headers(client, "staff")
    with a_message_before_each_read(
        app, tenant, conversation_id, reader=staff, author=tenant.users["supervisor"]
    ) as committed:
        response = await client.get(f"/api/v1/conversations/{conversation_id}", headers=headers)
    assert response.status_code == 200, response.text
    summary = response.json()
    assert committed, "no message was committed during the request: the test did not force the race"
    await _assert_counted_up_to_last_seq(runtime, tenant, conversation_id, staff, summary)


async def test_the_conversation_list_s_unread_counts_cover_exactly_the_messages_up_to_each_last_seq(
    client: AsyncTestClient[Litestar], app: Litestar, runtime: Runtime, tenant: TenantKit
) -> None:
    conversation_id = await channel(runtime, tenant, members=("staff", "supervisor"))
    staff, headers = tenant.users["staff"], await tenant.headers(client, "staff")
    with a_message_before_each_read(
        app, tenant, conversation_id, reader=staff, author=tenant.users["supervisor"]
    ) as committed:
        response = await client.get("/api/v1/conversations", headers=headers)
    assert response.status_code == 200, response.text
    summary = next(s for s in response.json() if s["conversation"]["id"] == str(conversation_id))
    assert committed, "no message was committed during the request: the test did not force the race"
    await _assert_counted_up_to_last_seq(runtime, tenant, conversation_id, staff, summary)
