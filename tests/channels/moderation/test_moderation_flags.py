"""Flags gather into one case per item; one open flag per reporter per item; unseen items are not found."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import text

from api.runtime import Runtime
from channels.conversations import Conversations
from channels.effects import Effects
from channels.errors import ChatError
from channels.moderation.cases import CaseQueue, ModerationContext, direct_auditor
from channels.moderation.flags import flag_item
from channels.moderation.views import CaseView
from tests.channels.chat import channel, say
from tests.channels.moderation.moderation_kit import as_moderation
from tests.kit import TenantKit, eventually

if TYPE_CHECKING:
    from collections.abc import Awaitable


async def test_flags_from_two_members_gather_into_one_case(runtime: Runtime, tenant: TenantKit) -> None:
    room = await channel(runtime, tenant, members=("staff", "supervisor", "moderator"))
    message = await say(runtime, tenant, "staff", room, "buy cheap watches")

    async def flag_as(role: str, reason: str) -> CaseView:
        return await as_moderation(
            runtime, tenant, role, lambda ctx, conv: flag_item(ctx, conv, reason=reason, message_id=message.id)
        )

    first = await flag_as("supervisor", "spam")
    second = await flag_as("moderator", "violence")
    assert second.id == first.id
    assert second.flag_count == 2
    assert second.reasons == ["spam", "violence"]
    assert second.priority > 100  # a threat goes first


async def test_flagging_twice_is_refused(runtime: Runtime, tenant: TenantKit) -> None:
    room = await channel(runtime, tenant, members=("staff", "supervisor"))
    message = await say(runtime, tenant, "staff", room, "hello")
    await as_moderation(
        runtime, tenant, "supervisor", lambda ctx, conv: flag_item(ctx, conv, reason="spam", message_id=message.id)
    )
    with pytest.raises(ChatError) as refusal:
        await as_moderation(
            runtime, tenant, "supervisor", lambda ctx, conv: flag_item(ctx, conv, reason="spam", message_id=message.id)
        )
    assert refusal.value.code == "already_flagged"


async def test_flagging_a_message_one_cannot_see_is_not_found(runtime: Runtime, tenant: TenantKit) -> None:
    async def private_room(conv):  # type: ignore[no-untyped-def]
        return (await conv.create_channel(name="secret-room", kind="private")).id

    from tests.channels.chat import as_user

    room = await as_user(runtime, tenant, "admin", private_room)
    message = await say(runtime, tenant, "admin", room, "private words")
    with pytest.raises(ChatError) as refusal:
        await as_moderation(
            runtime, tenant, "staff", lambda ctx, conv: flag_item(ctx, conv, reason="spam", message_id=message.id)
        )
    assert refusal.value.code == "not_found"


async def test_a_second_flag_waiting_on_the_first_uncommitted_one_is_refused_as_already_flagged(
    runtime: Runtime, tenant: TenantKit
) -> None:
    room = await channel(runtime, tenant, members=("staff", "supervisor"))
    message = await say(runtime, tenant, "staff", room, "buy now")

    def flag_it(ctx: ModerationContext, conv: Conversations) -> Awaitable[CaseView]:
        return flag_item(ctx, conv, reason="spam", message_id=message.id)

    async def waiting_for_a_lock() -> bool:
        async with runtime.db.transaction(tenant_id=tenant.id) as session:
            waiting = await session.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                    "AND query LIKE '%INSERT INTO moderation_case%' AND datname = current_database()"
                )
            )
        return bool(waiting)

    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        ctx = ModerationContext(
            session=session,
            tenant_id=tenant.id,
            actor_id=tenant.users["supervisor"],
            effects=Effects(),
            audit=direct_auditor(session, tenant_id=tenant.id, actor_id=tenant.users["supervisor"]),
        )
        conversations = Conversations(
            session=session, tenant_id=tenant.id, user_id=tenant.users["supervisor"], effects=ctx.effects
        )
        first = await flag_it(ctx, conversations)
        # The same member's second flag found no committed flag and now waits for the first case.
        second = asyncio.create_task(as_moderation(runtime, tenant, "supervisor", flag_it))
        await eventually(waiting_for_a_lock)
    with pytest.raises(ChatError) as refusal:
        await second
    assert refusal.value.code == "already_flagged"
    (case,) = await as_moderation(runtime, tenant, "moderator", lambda ctx, _: CaseQueue(ctx).list())
    assert (case.id, case.flag_count) == (first.id, 1)
