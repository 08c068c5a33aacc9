"""A muted author's sends are refused with ``muted``."""

from __future__ import annotations

import pytest

from api.runtime import Runtime
from channels.errors import ChatError
from channels.moderation.actions import Enforcement
from channels.moderation.flags import flag_item
from tests.channels.chat import channel, say
from tests.channels.moderation.moderation_kit import as_moderation
from tests.kit import TenantKit


async def test_a_muted_author_cannot_send(runtime: Runtime, tenant: TenantKit) -> None:
    room = await channel(runtime, tenant, members=("staff", "supervisor"))
    message = await say(runtime, tenant, "staff", room, "spam spam")
    case = await as_moderation(
        runtime, tenant, "supervisor", lambda ctx, conv: flag_item(ctx, conv, reason="spam", message_id=message.id)
    )
    await as_moderation(
        runtime,
        tenant,
        "moderator",
        lambda ctx, _: Enforcement(ctx).act(case.id, "mute", reason="flooding", mute_minutes=30, mute_scope="tenant"),
    )
    with pytest.raises(ChatError) as refusal:
        await say(runtime, tenant, "staff", room, "more")
    assert refusal.value.code == "muted"
