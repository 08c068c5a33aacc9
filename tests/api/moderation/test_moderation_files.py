"""A reported file is acted on through the message that shared it: hiding hides that message (and its
files) from members, deleting removes the message and the file for good."""

from __future__ import annotations

from uuid import UUID

from litestar import Litestar
from litestar.testing import AsyncTestClient

from api.runtime import Runtime
from tests.api.moderation.moderation_http import acted, seen_by
from tests.channels.chat import channel, say
from tests.channels.files import png
from tests.kit import TenantKit

Client = AsyncTestClient[Litestar]


async def reported_file(client: Client, runtime: Runtime, tenant: TenantKit) -> tuple[str, UUID, str]:
    """``staff`` shares a photo and ``supervisor`` reports the file: (file id, message id, case id)."""
    room = await channel(runtime, tenant, members=("staff", "supervisor"))
    uploaded = await client.post(
        "/api/v1/files",
        files={"file": ("shelf.png", png(4, 4), "image/png")},
        headers=await tenant.headers(client, "staff"),
    )
    assert uploaded.status_code == 201, uploaded.text
    file_id = uploaded.json()["id"]
    message = await say(runtime, tenant, "staff", room, "the shelf", attachment_ids=[UUID(file_id)])
    flagged = await client.post(
        "/api/v1/moderation/flags",
        json={"attachment_id": file_id, "reason": "private_data"},
        headers=await tenant.headers(client, "supervisor"),
    )
    assert flagged.status_code == 201, flagged.text
    return file_id, message.id, flagged.json()["case_id"]


async def test_hiding_a_reported_file_hides_the_message_that_shared_it(
    client: Client, runtime: Runtime, tenant: TenantKit
) -> None:
    file_id, message_id, case_id = await reported_file(client, runtime, tenant)
    hide = await acted(client, tenant, "moderator", case_id, "hide", reason="a customer's face")
    assert hide["message_id"] == str(message_id)

    member = await seen_by(client, tenant, "supervisor", message_id)
    assert (member["moderation"], member["body"], member.get("attachment_ids", [])) == ("hidden", "", [])
    author = await seen_by(client, tenant, "staff", message_id)
    assert (author["moderation"], author.get("attachment_ids", [])) == ("hidden", [file_id])


async def test_deleting_a_reported_file_removes_it_for_good_with_the_message(
    client: Client, runtime: Runtime, tenant: TenantKit
) -> None:
    file_id, message_id, case_id = await reported_file(client, runtime, tenant)
    await acted(client, tenant, "moderator", case_id, "delete", reason="a customer's card number")

    gone = await seen_by(client, tenant, "supervisor", message_id)
    assert (gone["deleted"], gone.get("attachment_ids", [])) == (True, [])
    for role in ("staff", "supervisor"):
        download = await client.get(f"/api/v1/files/{file_id}/content", headers=await tenant.headers(client, role))
        assert download.status_code == 404, role
    audit = await client.get(
        "/api/v1/moderation/audit",
        params={"action": "moderation.delete"},
        headers=await tenant.headers(client, "admin"),
    )
    (event,) = audit.json()["items"]
    assert (event["details"]["attachment_id"], event["details"]["content"]) == (file_id, "shelf.png")


async def test_a_hidden_messages_file_is_withheld_from_members_but_not_from_its_author(
    client: Client, runtime: Runtime, tenant: TenantKit
) -> None:
    file_id, _, case_id = await reported_file(client, runtime, tenant)
    await acted(client, tenant, "moderator", case_id, "hide", reason="a customer's face")

    member = await client.get(f"/api/v1/files/{file_id}/content", headers=await tenant.headers(client, "supervisor"))
    assert member.status_code == 404
    author = await client.get(f"/api/v1/files/{file_id}/content", headers=await tenant.headers(client, "staff"))
    assert (author.status_code, author.content) == (200, png(4, 4))


async def test_a_moderator_outside_the_conversation_opens_the_reported_file_through_its_case(
    client: Client, runtime: Runtime, tenant: TenantKit
) -> None:
    file_id, _, case_id = await reported_file(client, runtime, tenant)
    moderator = await tenant.headers(client, "moderator")

    direct = await client.get(f"/api/v1/files/{file_id}/content", headers=moderator)
    assert direct.status_code == 404
    through_case = await client.get(f"/api/v1/moderation/cases/{case_id}/file", headers=moderator)
    assert (through_case.status_code, through_case.content) == (200, png(4, 4))
    assert through_case.headers["content-type"] == "image/png"


async def test_a_case_file_is_refused_to_members_and_for_a_case_about_a_message(
    client: Client, runtime: Runtime, tenant: TenantKit
) -> None:
    _, message_id, case_id = await reported_file(client, runtime, tenant)
    member = await client.get(f"/api/v1/moderation/cases/{case_id}/file", headers=await tenant.headers(client, "staff"))
    assert member.status_code == 403

    flagged = await client.post(
        "/api/v1/moderation/flags",
        json={"message_id": str(message_id), "reason": "spam"},
        headers=await tenant.headers(client, "supervisor"),
    )
    message_case = flagged.json()["case_id"]
    answer = await client.get(
        f"/api/v1/moderation/cases/{message_case}/file", headers=await tenant.headers(client, "moderator")
    )
    assert (answer.status_code, answer.json()["error"]["code"]) == (404, "not_found")
