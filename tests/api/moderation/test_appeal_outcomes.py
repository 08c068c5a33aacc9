"""The appellant hears how an appeal ended, and a warning or mute links to the page that appeals it."""

from __future__ import annotations

from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import select

from api.runtime import Runtime
from persistence.models import Job
from tests.api.moderation.moderation_http import acted, flag, notifications, queue
from tests.channels.chat import channel, say
from tests.kit import PASSWORD, TenantKit

Client = AsyncTestClient[Litestar]
DECIDED = "Your appeal was reviewed"


async def appealed_case(client: Client, tenant: TenantKit, action_id: str) -> str:
    """``staff`` appeals the action; the appeal's case id, found in the second moderator's queue."""
    made = await client.post(
        "/api/v1/moderation/appeals",
        json={"action_id": action_id, "statement": "please look again"},
        headers=await tenant.headers(client, "staff"),
    )
    assert made.status_code == 201, made.text
    (case_id,) = await queue(client, tenant, "mod2", reason="appeal")
    return case_id


async def muted_staff(client: Client, runtime: Runtime, tenant: TenantKit) -> dict[str, object]:
    await tenant.add_user("mod2", roles=["moderator"])
    room = await channel(runtime, tenant, members=("staff", "supervisor"))
    case_id = await flag(client, tenant, "supervisor", (await say(runtime, tenant, "staff", room, "spam")).id)
    return await acted(client, tenant, "moderator", case_id, "mute", reason="flooding", mute_minutes=60)


async def test_an_overturned_appeal_tells_the_appellant_it_was_reversed(
    client: Client, runtime: Runtime, tenant: TenantKit
) -> None:
    mute = await muted_staff(client, runtime, tenant)
    appeal_case = await appealed_case(client, tenant, str(mute["id"]))
    await acted(client, tenant, "mod2", appeal_case, "overturn", reason="first time")
    (told,) = [n for n in await notifications(client, tenant, "staff") if n["title"] == DECIDED]
    assert "reversed the mute" in told["body"]
    assert "Moderator" not in told["body"]


async def test_an_upheld_appeal_tells_the_appellant_it_stands_and_why(
    client: Client, runtime: Runtime, tenant: TenantKit
) -> None:
    mute = await muted_staff(client, runtime, tenant)
    appeal_case = await appealed_case(client, tenant, str(mute["id"]))
    await acted(client, tenant, "mod2", appeal_case, "uphold", reason="it was a flood")
    (told,) = [n for n in await notifications(client, tenant, "staff") if n["title"] == DECIDED]
    assert "kept the mute" in told["body"]
    assert "it was a flood" in told["body"]


async def test_an_upheld_suspension_appeal_is_answered_by_mail(
    client: Client, runtime: Runtime, tenant: TenantKit
) -> None:
    await tenant.add_user("mod2", roles=["moderator"])
    room = await channel(runtime, tenant, members=("staff", "supervisor"))
    case_id = await flag(client, tenant, "supervisor", (await say(runtime, tenant, "staff", room, "threat")).id)
    await acted(client, tenant, "moderator", case_id, "suspend", reason="threat")
    made = await client.post(
        "/api/v1/moderation/suspension-appeals",
        json={"email": tenant.email("staff"), "password": PASSWORD, "statement": "I was hacked"},
    )
    assert made.status_code == 201, made.text
    (appeal_case,) = await queue(client, tenant, "mod2", reason="appeal")
    await acted(client, tenant, "mod2", appeal_case, "uphold", reason="the threat was real")

    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        mails = (await session.scalars(select(Job).where(Job.kind == "email.send"))).all()
    (answer,) = [m for m in mails if m.payload["subject"] == DECIDED]
    assert answer.payload["to"] == tenant.email("staff")
    assert "kept the suspension" in answer.payload["body"]


async def test_a_warning_links_to_the_page_that_appeals_it(client: Client, runtime: Runtime, tenant: TenantKit) -> None:
    room = await channel(runtime, tenant, members=("staff", "supervisor"))
    case_id = await flag(client, tenant, "supervisor", (await say(runtime, tenant, "staff", room, "rude")).id)
    warning = await acted(client, tenant, "moderator", case_id, "warn", reason="keep it civil")
    (note,) = [n for n in await notifications(client, tenant, "staff") if n["title"] == "A moderator warned you"]
    assert note["link"] == f"/#/appeal/{warning['id']}"
