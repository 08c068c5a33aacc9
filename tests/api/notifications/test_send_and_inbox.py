"""POST /api/v1/notifications and the inbox: permission, idempotency, bad input, tenant isolation, outbox rollback."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import func, select

from api.runtime import Runtime
from bench.push_service import FakeBrowser
from channels.conversations import Conversations
from channels.effects import Effects
from delivery.email import enqueue_email
from delivery.errors import NotifyError
from delivery.notify import Recipients, notify
from delivery.unsubscribe import UnsubscribeTarget, sign_unsubscribe
from persistence.models import Job, Notification, PushSubscription, Workplace, WorkplaceAssignment
from tests.kit import TenantKit

# An uncompressed P-256 point, as a browser's PushSubscription carries.
VALID_P256DH = FakeBrowser().subscription("https://push.example/").keys.p256dh


def _body(tenant: TenantKit, **fields: object) -> dict[str, object]:
    return {
        "recipients": {"users": [str(tenant.users["staff"])]},
        "category": "task",
        "title": "Restock shelf 4",
        "idempotency_key": secrets.token_hex(8),
        **fields,
    }


async def test_a_sent_notification_lands_in_the_recipients_inbox(
    client: AsyncTestClient[Litestar], tenant: TenantKit
) -> None:
    sent = await client.post("/api/v1/notifications", json=_body(tenant), headers=await tenant.headers(client))
    assert sent.status_code == 201, sent.text
    inbox = await client.get("/api/v1/notifications", headers=await tenant.headers(client, "staff"))
    assert [n["id"] for n in inbox.json()["items"]] == sent.json()["ids"]


async def test_the_same_idempotency_key_returns_the_first_ids_and_writes_nothing(
    client: AsyncTestClient[Litestar], tenant: TenantKit
) -> None:
    headers = await tenant.headers(client)
    body = _body(tenant)
    first = await client.post("/api/v1/notifications", json=body, headers=headers)
    second = await client.post("/api/v1/notifications", json={**body, "title": "Other"}, headers=headers)
    assert second.json()["ids"] == first.json()["ids"]
    counts = await client.get("/api/v1/notifications/counts", headers=await tenant.headers(client, "staff"))
    assert counts.json()["unread"] == 1


async def test_staff_cannot_send(client: AsyncTestClient[Litestar], tenant: TenantKit) -> None:
    response = await client.post(
        "/api/v1/notifications", json=_body(tenant), headers=await tenant.headers(client, "staff")
    )
    assert response.status_code == 403


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"category": "no-such-category"}, "unknown_category"),
        ({"recipients": {"users": ["01a00000-0000-7000-8000-000000000000"]}}, "unknown_recipients"),
        ({"data": {"blob": "x" * 5000}}, "payload_too_large"),
        ({"priority": "critical"}, "critical_not_allowed"),
        ({"link": "javascript:alert(1)"}, "invalid_notification"),
        ({"title": " "}, "invalid_notification"),
        ({"actions": [{"id": "a", "label": "x"}] * 4}, "invalid_notification"),
        ({"recipients": {"roles": ["no-such-role"]}}, "unknown_recipients"),
    ],
)
async def test_bad_input_is_refused_with_a_code_and_nothing_is_written(
    client: AsyncTestClient[Litestar], runtime: Runtime, tenant: TenantKit, fields: dict[str, object], code: str
) -> None:
    response = await client.post(
        "/api/v1/notifications", json=_body(tenant, **fields), headers=await tenant.headers(client)
    )
    assert (response.status_code, response.json()["error"]["code"]) == (422, code)
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        assert await session.scalar(select(func.count()).select_from(Notification)) == 0
        assert await session.scalar(select(func.count()).select_from(Job)) == 0
    # Nothing else is held up: the next good request goes straight through.
    good = await client.post("/api/v1/notifications", json=_body(tenant), headers=await tenant.headers(client))
    assert good.status_code == 201, good.text


async def test_another_tenants_notification_is_not_found(
    client: AsyncTestClient[Litestar], tenant: TenantKit, other_tenant: TenantKit
) -> None:
    sent = await client.post("/api/v1/notifications", json=_body(tenant), headers=await tenant.headers(client))
    notification_id = sent.json()["ids"][0]
    outsider = await other_tenant.headers(client)
    assert (await client.get(f"/api/v1/notifications/{notification_id}", headers=outsider)).status_code == 404
    assert (
        await client.get(f"/api/v1/notifications/{notification_id}/deliveries", headers=outsider)
    ).status_code == 404


async def test_a_rolled_back_transaction_leaves_no_notification_and_no_job(runtime: Runtime, tenant: TenantKit) -> None:
    async def notify_then_fail() -> None:
        async with runtime.db.transaction(tenant_id=tenant.id) as session:
            await notify(
                session,
                tenant_id=tenant.id,
                recipients=Recipients(users=[tenant.users["staff"]]),
                category="safety",
                priority="critical",
                title="Fire drill",
                body="",
                idempotency_key="rolled-back",
            )
            raise RuntimeError("the domain change failed")

    with pytest.raises(RuntimeError):
        await notify_then_fail()
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        assert await session.scalar(select(func.count()).select_from(Notification)) == 0
        assert await session.scalar(select(func.count()).select_from(Job)) == 0


async def test_marking_read_updates_the_counts_and_cancels_pending_email(
    client: AsyncTestClient[Litestar], tenant: TenantKit
) -> None:
    sent = await client.post("/api/v1/notifications", json=_body(tenant), headers=await tenant.headers(client))
    notification_id = sent.json()["ids"][0]
    staff = await tenant.headers(client, "staff")
    marked = await client.patch(f"/api/v1/notifications/{notification_id}", json={"state": "read"}, headers=staff)
    assert marked.json()["state"] == "read"
    assert (await client.get("/api/v1/notifications/counts", headers=staff)).json()["unread"] == 0
    deliveries = (await client.get(f"/api/v1/notifications/{notification_id}/deliveries", headers=staff)).json()
    assert {d["channel"]: (d["status"], d.get("reason")) for d in deliveries}["email"] == ("skipped", "read")


async def test_a_forged_unsubscribe_link_is_refused(client: AsyncTestClient[Litestar]) -> None:
    response = await client.post("/api/v1/notifications/unsubscribe?token=eyJmb3JnZWQiOjF9.AAAA")
    assert (response.status_code, response.json()["error"]["code"]) == (400, "invalid_token")


async def test_an_altered_unsubscribe_link_changes_nothing_and_the_genuine_one_works_on_post_only(
    client: AsyncTestClient[Litestar], runtime: Runtime, tenant: TenantKit
) -> None:
    secret = runtime.settings.resolved_secret_key()
    genuine = sign_unsubscribe(secret, UnsubscribeTarget(tenant.id, tenant.users["staff"], "task"))
    body, _, mac = genuine.partition(".")
    other = sign_unsubscribe(secret, UnsubscribeTarget(tenant.id, tenant.users["staff"], "mention")).partition(".")[0]
    wrong_key = sign_unsubscribe("another-secret", UnsubscribeTarget(tenant.id, tenant.users["staff"], "task"))
    for token in (f"{other}.{mac}", f"{body}.{mac[:-2]}AA", wrong_key, body):
        refused = await client.post(f"/api/v1/notifications/unsubscribe?token={token}")
        assert (refused.status_code, refused.json()["error"]["code"]) == (400, "invalid_token"), token
    staff = await tenant.headers(client, "staff")

    async def email_on() -> bool:
        prefs = (await client.get("/api/v1/notifications/preferences", headers=staff)).json()
        return bool(next(c for c in prefs["categories"] if c["category"] == "task")["email"])

    assert await email_on()
    page = await client.get(f"/api/v1/notifications/unsubscribe?token={genuine}")
    assert page.status_code == 200
    assert await email_on()  # opening the link (a mail scanner does) changes nothing
    done = await client.post(f"/api/v1/notifications/unsubscribe?token={genuine}")
    assert done.json() == {"status": "unsubscribed", "category": "task"}
    assert not await email_on()


async def test_an_invalid_email_address_is_refused_and_nothing_is_queued(runtime: Runtime, tenant: TenantKit) -> None:
    for address in (
        "no-at-sign",
        "two@@example.com",
        "staff@example.com\r\nBcc: all@example.com",
        "x@nodot",
        " a@b.example",
    ):
        with pytest.raises(NotifyError) as refused:
            async with runtime.db.transaction(tenant_id=tenant.id) as session:
                await enqueue_email(session, tenant_id=tenant.id, to=address, subject="Hello", body="Hi")
        assert refused.value.code == "invalid_email", address
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        assert await session.scalar(select(func.count()).select_from(Job)) == 0
        assert await enqueue_email(session, tenant_id=tenant.id, to=tenant.email("staff"), subject="Hello", body="Hi")


async def test_a_malformed_push_subscription_is_refused(client: AsyncTestClient[Litestar], tenant: TenantKit) -> None:
    body = {"endpoint": "https://push.example/abc", "keys": {"p256dh": "not-a-key", "auth": "AAAAAAAAAAAAAAAAAAAAAA"}}
    response = await client.post("/api/v1/push/subscriptions", json=body, headers=await tenant.headers(client, "staff"))
    assert (response.status_code, response.json()["error"]["code"]) == (422, "invalid_subscription")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"endpoint": "http://push.example/abc"}, "endpoint"),
        ({"endpoint": "not a url"}, "endpoint"),
        ({"keys": {"p256dh": VALID_P256DH, "auth": "c2hvcnQ"}}, "keys.auth"),
        ({"keys": {"p256dh": VALID_P256DH[:40], "auth": "AAAAAAAAAAAAAAAAAAAAAA"}}, "keys.p256dh"),
    ],
)
async def test_each_malformed_part_of_a_subscription_is_named_and_nothing_is_kept(
    client: AsyncTestClient[Litestar], runtime: Runtime, tenant: TenantKit, change: dict[str, object], field: str
) -> None:
    body = {"endpoint": "https://push.example/abc", "keys": {"p256dh": VALID_P256DH, "auth": "AAAAAAAAAAAAAAAAAAAAAA"}}
    response = await client.post(
        "/api/v1/push/subscriptions", json={**body, **change}, headers=await tenant.headers(client, "staff")
    )
    error = response.json()["error"]
    assert (response.status_code, error["code"], error["details"]["field"]) == (422, "invalid_subscription", field)
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        assert await session.scalar(select(func.count()).select_from(PushSubscription)) == 0


async def test_the_service_worker_is_served_at_the_root(client: AsyncTestClient[Litestar]) -> None:
    response = await client.get("/sw.js")
    assert response.headers["content-type"].startswith("application/javascript")
    assert "showNotification" in response.text


async def test_a_workplace_and_a_conversation_reach_their_people_once(
    client: AsyncTestClient[Litestar], runtime: Runtime, tenant: TenantKit
) -> None:
    now = datetime.now(UTC)
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        store = Workplace(
            tenant_id=tenant.id,
            name="Store 12",
            code="S12",
            latitude=48.85,
            longitude=2.35,
            geofence_radius_m=100,
            timezone="Europe/Paris",
        )
        session.add(store)
        await session.flush()
        for role, ended in (("staff", None), ("supervisor", now)):  # the supervisor left the store
            session.add(
                WorkplaceAssignment(
                    tenant_id=tenant.id,
                    workplace_id=store.id,
                    user_id=tenant.users[role],
                    role="staff",
                    started_at=now - timedelta(days=30),
                    ended_at=ended,
                )
            )
        chat = Conversations(session=session, tenant_id=tenant.id, user_id=tenant.users["admin"], effects=Effects())
        channel = await chat.create_channel(name="night-shift", kind="private", member_ids=[tenant.users["staff"]])
    sent = await client.post(
        "/api/v1/notifications",
        json=_body(tenant, recipients={"workplaces": [str(store.id)], "conversations": [str(channel.id)]}),
        headers=await tenant.headers(client),
    )
    assert sent.status_code == 201, sent.text
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        reached = (await session.scalars(select(Notification.user_id))).all()
    assert sorted(reached) == sorted([tenant.users["staff"], tenant.users["admin"]])
    unknown = await client.post(
        "/api/v1/notifications",
        json=_body(tenant, recipients={"workplaces": [str(channel.id)]}),
        headers=await tenant.headers(client),
    )
    assert (unknown.status_code, unknown.json()["error"]["details"]) == (
        422,
        {"workplaces": [str(channel.id)]},
    )
