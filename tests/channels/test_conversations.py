"""Conversations and membership: channels, one DM per pair, groups, joining, leaving, roles, archiving."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

from api.runtime import Runtime
from channels.conversations import Conversations
from channels.errors import ChatError
from persistence.models import Conversation, ConversationEvent
from tests.channels.chat import as_user, channel
from tests.kit import TenantKit


async def _events(runtime: Runtime, tenant: TenantKit, conversation_id: object) -> list[tuple[int, str]]:
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        rows = await session.execute(
            select(ConversationEvent.seq, ConversationEvent.kind)
            .where(ConversationEvent.conversation_id == conversation_id)
            .order_by(ConversationEvent.seq)
        )
        return [(seq, kind) for seq, kind in rows]


async def test_creating_a_channel_records_each_member_joining_in_order(runtime: Runtime, tenant: TenantKit) -> None:
    conversation_id = await channel(runtime, tenant, members=("staff", "supervisor"))
    assert await _events(runtime, tenant, conversation_id) == [
        (1, "member.joined"),
        (2, "member.joined"),
        (3, "member.joined"),
    ]


async def test_two_people_opening_their_dm_at_once_get_the_same_one(runtime: Runtime, tenant: TenantKit) -> None:
    async def open_with(role: str, other: str) -> object:
        async def run(conversations: Conversations) -> object:
            conversation, _ = await conversations.open_direct(tenant.users[other])
            return conversation.id

        return await as_user(runtime, tenant, role, run)

    first, second = await asyncio.gather(open_with("staff", "supervisor"), open_with("supervisor", "staff"))
    assert first == second
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        dms = (await session.scalars(select(Conversation).where(Conversation.kind == "direct"))).all()
    assert [c.id for c in dms] == [first]


async def test_a_dm_with_oneself_is_refused(runtime: Runtime, tenant: TenantKit) -> None:
    with pytest.raises(ChatError) as refused:
        await as_user(runtime, tenant, "staff", lambda c: c.open_direct(tenant.users["staff"]))
    assert refused.value.code == "invalid_members"


async def test_a_dm_with_someone_of_another_tenant_is_refused(
    runtime: Runtime, tenant: TenantKit, other_tenant: TenantKit
) -> None:
    with pytest.raises(ChatError) as refused:
        await as_user(runtime, tenant, "staff", lambda c: c.open_direct(other_tenant.users["staff"]))
    assert refused.value.code == "invalid_members"


async def test_a_group_needs_three_to_eight_people(runtime: Runtime, tenant: TenantKit) -> None:
    with pytest.raises(ChatError) as refused:
        await as_user(runtime, tenant, "staff", lambda c: c.open_group([tenant.users["admin"]]))
    assert refused.value.code == "invalid_members"
    group = await as_user(
        runtime, tenant, "staff", lambda c: c.open_group([tenant.users["admin"], tenant.users["moderator"]])
    )
    assert group.kind == "group"


async def test_a_private_channel_is_invisible_to_non_members(runtime: Runtime, tenant: TenantKit) -> None:
    private = await as_user(runtime, tenant, "admin", lambda c: c.create_channel(name="Leadership", kind="private"))
    with pytest.raises(ChatError) as refused:
        await as_user(runtime, tenant, "staff", lambda c: c.visible(private.id))
    assert refused.value.code == "not_found"
    with pytest.raises(ChatError):
        await as_user(runtime, tenant, "staff", lambda c: c.join(private.id))


async def test_joining_twice_is_refused(runtime: Runtime, tenant: TenantKit) -> None:
    conversation_id = await channel(runtime, tenant)
    await as_user(runtime, tenant, "staff", lambda c: c.join(conversation_id))
    with pytest.raises(ChatError) as refused:
        await as_user(runtime, tenant, "staff", lambda c: c.join(conversation_id))
    assert refused.value.code == "already_member"


async def test_only_owners_and_admins_remove_members(runtime: Runtime, tenant: TenantKit) -> None:
    conversation_id = await channel(runtime, tenant, members=("staff", "supervisor"))
    with pytest.raises(ChatError) as refused:
        await as_user(runtime, tenant, "staff", lambda c: c.remove(conversation_id, tenant.users["supervisor"]))
    assert refused.value.code == "forbidden"
    await as_user(runtime, tenant, "admin", lambda c: c.remove(conversation_id, tenant.users["supervisor"]))
    assert (await _events(runtime, tenant, conversation_id))[-1] == (4, "member.left")


async def test_an_archived_channel_takes_no_new_members(runtime: Runtime, tenant: TenantKit) -> None:
    conversation_id = await channel(runtime, tenant)
    await as_user(runtime, tenant, "admin", lambda c: c.set_archived(conversation_id, True))
    with pytest.raises(ChatError) as refused:
        await as_user(runtime, tenant, "staff", lambda c: c.join(conversation_id))
    assert refused.value.code == "archived"


async def test_channel_names_are_unique_per_tenant_only(
    runtime: Runtime, tenant: TenantKit, other_tenant: TenantKit
) -> None:
    await as_user(runtime, tenant, "admin", lambda c: c.create_channel(name="General", kind="public"))
    with pytest.raises(ChatError) as refused:
        await as_user(runtime, tenant, "admin", lambda c: c.create_channel(name="general", kind="private"))
    assert refused.value.code == "conflict"
    created = await as_user(runtime, other_tenant, "admin", lambda c: c.create_channel(name="general", kind="public"))
    assert created.name == "general"


async def test_workplace_channel_members_follow_the_assignment_list(runtime: Runtime, tenant: TenantKit) -> None:
    from uuid import uuid4

    workplace = uuid4()
    await as_user(runtime, tenant, "admin", lambda c: c.ensure_workplace_channel(workplace, "Store 12"))
    staff, supervisor = tenant.users["staff"], tenant.users["supervisor"]
    await as_user(runtime, tenant, "admin", lambda c: c.sync_workplace_members(workplace, [staff, supervisor]))
    await as_user(runtime, tenant, "admin", lambda c: c.sync_workplace_members(workplace, [supervisor]))

    async def members(c: Conversations) -> set[object]:
        conversation = await c.ensure_workplace_channel(workplace, "Store 12")
        return set(await c.member_ids(conversation.id))

    assert await as_user(runtime, tenant, "admin", members) == {supervisor}
