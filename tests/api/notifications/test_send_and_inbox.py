"""POST /api/v1/notifications and the inbox: permission, idempotency, bad input, tenant isolation, outbox rollback."""

from __future__ import annotations

import secrets

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import func, select

from api.runtime import Runtime
from delivery.notify import Recipients, notify
from persistence.models import Job, Notification
from tests.kit import TenantKit


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


async def test_a_malformed_push_subscription_is_refused(client: AsyncTestClient[Litestar], tenant: TenantKit) -> None:
    body = {"endpoint": "https://push.example/abc", "keys": {"p256dh": "not-a-key", "auth": "AAAAAAAAAAAAAAAAAAAAAA"}}
    response = await client.post("/api/v1/push/subscriptions", json=body, headers=await tenant.headers(client, "staff"))
    assert (response.status_code, response.json()["error"]["code"]) == (422, "invalid_subscription")


async def test_the_service_worker_is_served_at_the_root(client: AsyncTestClient[Litestar]) -> None:
    response = await client.get("/sw.js")
    assert response.headers["content-type"].startswith("application/javascript")
    assert "showNotification" in response.text
