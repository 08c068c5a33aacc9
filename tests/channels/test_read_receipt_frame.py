"""The read receipt on the wire: the frame carries its ``kind`` as docs/protocol.md shows it."""

from __future__ import annotations

from uuid import UUID

import msgspec

from api.runtime import Runtime
from channels.conversations import Conversations
from channels.effects import Effects
from channels.reading import ReadState
from tests.channels.chat import as_user, say
from tests.kit import TenantKit


async def test_a_read_receipt_frame_says_its_kind(runtime: Runtime, tenant: TenantKit) -> None:
    async def open_direct(conversations: Conversations) -> UUID:
        conversation, _ = await conversations.open_direct(tenant.users["supervisor"])
        return conversation.id

    conversation_id = await as_user(runtime, tenant, "staff", open_direct)
    message = await say(runtime, tenant, "supervisor", conversation_id, "are you at the store?")
    effects = Effects()
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        conversations = Conversations(
            session=session, tenant_id=tenant.id, user_id=tenant.users["staff"], effects=effects
        )
        await ReadState(conversations=conversations).mark_read(conversation_id, message.seq)
    [receipt] = [msgspec.json.decode(e.payload) for e in effects.events]
    assert receipt == {
        "kind": "read",
        "conversation_id": str(conversation_id),
        "user_id": str(tenant.users["staff"]),
        "seq": message.seq,
    }
