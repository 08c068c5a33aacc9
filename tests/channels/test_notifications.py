"""Mentions and direct messages become notifications, except for whoever is reading the conversation."""

from __future__ import annotations

import socket
import time
from uuid import UUID

import redis.asyncio as aioredis
from sqlalchemy import select

from api.runtime import Runtime
from channels.conversations import Conversations
from channels.messages import Messages
from channels.notifications import MentionNotifier, viewing_key
from channels.views import MessageView
from persistence.models import Notification
from tests.channels.chat import as_user, channel
from tests.kit import TenantKit


async def _send(
    runtime: Runtime,
    tenant: TenantKit,
    role: str,
    conversation_id: UUID,
    body: str,
    redis: aioredis.Redis | None = None,
) -> MessageView:
    notifier = MentionNotifier(redis=redis or runtime.redis, hub=None)

    async def send(conversations: Conversations) -> MessageView:
        message, _ = await Messages(conversations=conversations, notifier=notifier).send(
            conversation_id, body=body, client_id=f"n-{time.monotonic_ns()}"
        )
        return message

    return await as_user(runtime, tenant, role, send)


async def _notified(runtime: Runtime, tenant: TenantKit) -> list[tuple[UUID, str]]:
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        rows = await session.scalars(select(Notification).order_by(Notification.created_at))
        return [(n.user_id, n.category) for n in rows]


async def test_a_mention_notifies_the_mentioned_member(runtime: Runtime, tenant: TenantKit) -> None:
    conversation_id = await channel(runtime, tenant, members=("staff", "supervisor"))
    await _send(runtime, tenant, "supervisor", conversation_id, f"<@{tenant.users['staff']}> restock aisle 2")
    assert await _notified(runtime, tenant) == [(tenant.users["staff"], "mention")]


async def test_a_mention_while_reading_the_conversation_notifies_nobody(
    runtime: Runtime, tenant: TenantKit, redis_client: aioredis.Redis
) -> None:
    conversation_id = await channel(runtime, tenant, members=("staff", "supervisor"))
    await redis_client.zadd(viewing_key(tenant.id, conversation_id), {str(tenant.users["staff"]): time.time() + 30})
    await _send(runtime, tenant, "supervisor", conversation_id, f"<@{tenant.users['staff']}> you there?")
    assert await _notified(runtime, tenant) == []


async def test_a_reading_position_that_expired_no_longer_suppresses(
    runtime: Runtime, tenant: TenantKit, redis_client: aioredis.Redis
) -> None:
    conversation_id = await channel(runtime, tenant, members=("staff", "supervisor"))
    await redis_client.zadd(viewing_key(tenant.id, conversation_id), {str(tenant.users["staff"]): time.time() - 1})
    await _send(runtime, tenant, "supervisor", conversation_id, f"<@{tenant.users['staff']}> hello?")
    assert await _notified(runtime, tenant) == [(tenant.users["staff"], "mention")]


async def test_a_mention_still_notifies_while_redis_is_unreachable(runtime: Runtime, tenant: TenantKit) -> None:
    conversation_id = await channel(runtime, tenant, members=("staff", "supervisor"))
    with socket.socket() as probe:  # a port nothing listens on: Redis restarting, or failing over
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    unreachable = aioredis.Redis(port=port, socket_connect_timeout=1)
    try:
        await _send(runtime, tenant, "supervisor", conversation_id, f"<@{tenant.users['staff']}> restock", unreachable)
    finally:
        await unreachable.aclose()
    assert await _notified(runtime, tenant) == [(tenant.users["staff"], "mention")]


async def test_a_direct_message_notifies_the_other_person(runtime: Runtime, tenant: TenantKit) -> None:
    async def open_dm(conversations: Conversations) -> UUID:
        conversation, _ = await conversations.open_direct(tenant.users["supervisor"])
        return conversation.id

    conversation_id = await as_user(runtime, tenant, "staff", open_dm)
    await _send(runtime, tenant, "staff", conversation_id, "can I leave at 4?")
    assert await _notified(runtime, tenant) == [(tenant.users["supervisor"], "mention")]


async def test_channel_reaches_members_but_not_muted_ones(runtime: Runtime, tenant: TenantKit) -> None:
    conversation_id = await channel(runtime, tenant, members=("staff", "supervisor", "moderator"))
    await as_user(runtime, tenant, "moderator", lambda c: c.set_preferences(conversation_id, muted=True))
    await _send(runtime, tenant, "admin", conversation_id, "@channel store closes early today")
    assert sorted(u for u, _ in await _notified(runtime, tenant)) == sorted(
        [tenant.users["staff"], tenant.users["supervisor"]]
    )


async def test_a_member_with_level_none_is_never_notified(runtime: Runtime, tenant: TenantKit) -> None:
    conversation_id = await channel(runtime, tenant, members=("staff", "supervisor"))
    await as_user(runtime, tenant, "staff", lambda c: c.set_preferences(conversation_id, notify_level="none"))
    await _send(runtime, tenant, "supervisor", conversation_id, f"<@{tenant.users['staff']}> ping")
    assert await _notified(runtime, tenant) == []
