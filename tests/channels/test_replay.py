"""Replay of a conversation for a resuming socket: members only, and ``too_far`` past what is kept."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import delete

from api.runtime import Runtime
from channels.realtime import ChatRealtime
from hub import Hub, HubConfig, MemoryBroker, Principal
from persistence.models import ConversationEvent
from tests.channels.chat import channel, say
from tests.kit import TenantKit


async def _refuse_all(_: Any) -> None:
    return None


@pytest.fixture
def chat(runtime: Runtime) -> ChatRealtime:
    hub = Hub(config=HubConfig(), broker=MemoryBroker(), redis=runtime.redis, authenticator=_refuse_all)
    return ChatRealtime(hub=hub, db=runtime.db, redis=runtime.redis)


def _principal(tenant: TenantKit, role: str) -> Principal:
    return Principal(user_id=str(tenant.users[role]), namespace=str(tenant.id), session_id="s")


async def test_a_member_gets_the_events_after_their_position_in_order(
    chat: ChatRealtime, runtime: Runtime, tenant: TenantKit
) -> None:
    conversation_id = await channel(runtime, tenant, members=("staff",))
    first = await say(runtime, tenant, "admin", conversation_id, "one")
    await say(runtime, tenant, "admin", conversation_id, "two")
    topic = f"t:{tenant.id}:conv:{conversation_id}"
    result = await chat.replay(_principal(tenant, "staff"), topic, first.seq, 100)
    assert (result.status, [e.seq for e in result.events]) == ("ok", [first.seq + 1])


async def test_a_non_member_of_a_private_conversation_gets_not_found(
    chat: ChatRealtime, runtime: Runtime, tenant: TenantKit
) -> None:
    from tests.channels.chat import as_user

    private = await as_user(runtime, tenant, "admin", lambda c: c.create_channel(name="board", kind="private"))
    result = await chat.replay(_principal(tenant, "staff"), f"t:{tenant.id}:conv:{private.id}", 0, 100)
    assert result.status == "not_found"


async def test_a_position_older_than_the_kept_events_is_too_far(
    chat: ChatRealtime, runtime: Runtime, tenant: TenantKit
) -> None:
    conversation_id = await channel(runtime, tenant, members=("staff",))
    for n in range(4):
        await say(runtime, tenant, "admin", conversation_id, f"m{n}")
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        # What a retention sweep does to the oldest part of the log.
        await session.execute(
            delete(ConversationEvent).where(
                ConversationEvent.conversation_id == conversation_id, ConversationEvent.seq <= 3
            )
        )
    topic = f"t:{tenant.id}:conv:{conversation_id}"
    assert (await chat.replay(_principal(tenant, "staff"), topic, 1, 100)).status == "too_far"
    assert (await chat.replay(_principal(tenant, "staff"), topic, 3, 100)).status == "ok"
