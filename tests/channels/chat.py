"""Arranging chat in tests: run one change as a user of a tenant, in its own committed transaction."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar
from uuid import UUID, uuid4

from api.runtime import Runtime
from channels.conversations import Conversations
from channels.effects import Effects
from channels.messages import Messages
from channels.views import MessageView
from tests.kit import TenantKit

T = TypeVar("T")


async def as_user(runtime: Runtime, tenant: TenantKit, role: str, change: Callable[[Conversations], Awaitable[T]]) -> T:
    """Run ``change`` as ``tenant.users[role]`` and commit (effects are not published: no hub here)."""
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        conversations = Conversations(
            session=session, tenant_id=tenant.id, user_id=tenant.users[role], effects=Effects()
        )
        return await change(conversations)


async def channel(runtime: Runtime, tenant: TenantKit, *, owner: str = "admin", members: tuple[str, ...] = ()) -> UUID:
    """A public channel owned by ``owner`` with ``members`` in it; returns its id."""

    async def create(conversations: Conversations) -> UUID:
        created = await conversations.create_channel(
            name=f"room-{uuid4().hex[:12]}",
            kind="public",
            member_ids=[tenant.users[m] for m in members],
        )
        return created.id

    return await as_user(runtime, tenant, owner, create)


async def say(
    runtime: Runtime, tenant: TenantKit, role: str, conversation_id: UUID, body: str, **options: object
) -> MessageView:
    async def send(conversations: Conversations) -> MessageView:
        client_id = str(options.pop("client_id", uuid4().hex))
        message, _ = await Messages(conversations=conversations).send(
            conversation_id,
            body=body,
            client_id=client_id,
            **options,  # type: ignore[arg-type]
        )
        return message

    return await as_user(runtime, tenant, role, send)
