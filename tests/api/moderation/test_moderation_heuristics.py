"""Attachment and spam rules in the send path: a blocked file type, many mentions, the same text in
many conversations, a burst of messages, and a new account posting links."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import update

from api.runtime import Runtime
from channels.errors import ChatError
from persistence.models import User
from tests.api.moderation.moderation_http import queue
from tests.channels.chat import channel, say
from tests.channels.files import png
from tests.kit import TenantKit

Client = AsyncTestClient[Litestar]


async def new_rule(client: Client, tenant: TenantKit, **fields: Any) -> str:
    response = await client.post(
        "/api/v1/moderation/rules", json={"name": "rule", **fields}, headers=await tenant.headers(client, "moderator")
    )
    assert response.status_code == 201, response.text
    rule_id: str = response.json()["id"]
    return rule_id


async def cases_of(client: Client, tenant: TenantKit, rule_id: str) -> list[str]:
    """The message ids of the open cases this rule opened."""
    response = await client.get(
        "/api/v1/moderation/cases", params={"rule_id": rule_id}, headers=await tenant.headers(client, "moderator")
    )
    assert response.status_code == 200, response.text
    return [c["message_id"] for c in response.json()]


async def test_an_attachment_type_rule_blocks_a_message_with_a_file_of_that_type(
    client: Client, runtime: Runtime, tenant: TenantKit
) -> None:
    await new_rule(client, tenant, kind="attachment_type", action="block", terms=["IMAGE/PNG"])
    room = await channel(runtime, tenant, members=("staff",))
    uploaded = await client.post(
        "/api/v1/files",
        files={"file": ("shelf.png", png(4, 4), "image/png")},
        headers=await tenant.headers(client, "staff"),
    )
    assert uploaded.status_code == 201, uploaded.text
    with pytest.raises(ChatError) as refusal:
        await say(runtime, tenant, "staff", room, "the shelf", attachment_ids=[UUID(uploaded.json()["id"])])
    assert refusal.value.code == "blocked_by_rule"
    assert (await say(runtime, tenant, "staff", room, "the shelf, in words")).body == "the shelf, in words"


async def test_a_mentions_rule_flags_a_message_with_that_many_mentions(
    client: Client, runtime: Runtime, tenant: TenantKit
) -> None:
    rule_id = await new_rule(client, tenant, kind="mentions", action="flag", threshold=3)
    room = await channel(runtime, tenant, members=("staff", "supervisor", "moderator", "admin"))
    two = " ".join(f"<@{tenant.users[r]}>" for r in ("supervisor", "moderator"))
    await say(runtime, tenant, "staff", room, f"{two} look")
    three = await say(runtime, tenant, "staff", room, f"{two} <@{tenant.users['admin']}> look")
    assert await cases_of(client, tenant, rule_id) == [str(three.id)]


async def test_a_repeat_rule_flags_the_same_text_posted_in_that_many_conversations(
    client: Client, runtime: Runtime, tenant: TenantKit
) -> None:
    rule_id = await new_rule(client, tenant, kind="repeat", action="flag", threshold=3)
    rooms = [await channel(runtime, tenant, members=("staff",)) for _ in range(3)]
    await say(runtime, tenant, "staff", rooms[0], "cheap watches, ask me")
    await say(runtime, tenant, "staff", rooms[1], "cheap watches, ask me")
    await say(runtime, tenant, "staff", rooms[2], "something else")
    third = await say(runtime, tenant, "staff", rooms[2], "cheap watches, ask me")
    assert await cases_of(client, tenant, rule_id) == [str(third.id)]


async def test_a_burst_rule_holds_the_message_that_reaches_the_limit_within_a_minute(
    client: Client, runtime: Runtime, tenant: TenantKit
) -> None:
    rule_id = await new_rule(client, tenant, kind="burst", action="hold", threshold=3)
    room = await channel(runtime, tenant, members=("staff", "supervisor"))
    first = await say(runtime, tenant, "staff", room, "one")
    second = await say(runtime, tenant, "staff", room, "two")
    third = await say(runtime, tenant, "staff", room, "three")
    assert [m.moderation for m in (first, second, third)] == [None, None, "held"]
    assert await cases_of(client, tenant, rule_id) == [str(third.id)]


async def test_a_new_account_posting_links_is_flagged_and_an_older_account_is_not(
    client: Client, runtime: Runtime, tenant: TenantKit
) -> None:
    rule_id = await new_rule(client, tenant, kind="new_account_links", action="flag", threshold=24)
    await tenant.add_user("veteran", roles=["staff"])
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        await session.execute(
            update(User)
            .where(User.id == tenant.users["veteran"])
            .values(created_at=datetime.now(UTC) - timedelta(days=30))
        )
    room = await channel(runtime, tenant, members=("staff", "veteran"))
    await say(runtime, tenant, "staff", room, "no link, no problem")
    await say(runtime, tenant, "veteran", room, "see https://deals.example/a")
    newcomer = await say(runtime, tenant, "staff", room, "see https://deals.example/a")
    assert await cases_of(client, tenant, rule_id) == [str(newcomer.id)]
    assert await queue(client, tenant, "moderator", author_id=str(tenant.users["veteran"])) == []
