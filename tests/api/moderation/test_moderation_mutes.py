"""A mute lasts its period: a bad period is refused with nothing changed, and sends resume once it ends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import update

from api.runtime import Runtime
from persistence.models import ModerationMute
from tests.api.moderation.moderation_http import act, acted, flag
from tests.channels.chat import channel, say
from tests.kit import TenantKit

Client = AsyncTestClient[Litestar]


async def test_a_mute_without_a_valid_period_is_refused_and_changes_nothing(
    client: Client, runtime: Runtime, tenant: TenantKit
) -> None:
    room = await channel(runtime, tenant, members=("staff", "supervisor"))
    case_id = await flag(client, tenant, "supervisor", (await say(runtime, tenant, "staff", room, "spam")).id)
    periods: list[dict[str, Any]] = [{}, {"mute_minutes": 0}, {"mute_minutes": 366 * 24 * 60}]
    for extra in periods:
        refused = await act(client, tenant, "moderator", case_id, "mute", **extra)
        assert (refused.status_code, refused.json()["error"]["code"]) == (422, "invalid_message"), extra

    detail = (
        await client.get(f"/api/v1/moderation/cases/{case_id}", headers=await tenant.headers(client, "moderator"))
    ).json()
    assert (detail["case"]["status"], detail["actions"]) == ("open", [])
    assert (await say(runtime, tenant, "staff", room, "still here")).body == "still here"


async def test_sends_resume_once_the_mute_has_run_out(client: Client, runtime: Runtime, tenant: TenantKit) -> None:
    room = await channel(runtime, tenant, members=("staff", "supervisor"))
    case_id = await flag(client, tenant, "supervisor", (await say(runtime, tenant, "staff", room, "spam")).id)
    await acted(client, tenant, "moderator", case_id, "mute", mute_minutes=5, mute_scope="tenant")
    author = await tenant.headers(client, "staff")
    muted = await client.post(
        f"/api/v1/conversations/{room}/messages", json={"client_id": "m1", "body": "hi"}, headers=author
    )
    assert (muted.status_code, muted.json()["error"]["code"]) == (403, "muted")

    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        await session.execute(update(ModerationMute).values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
    sent = await client.post(
        f"/api/v1/conversations/{room}/messages", json={"client_id": "m2", "body": "hi"}, headers=author
    )
    assert sent.status_code == 201, sent.text
