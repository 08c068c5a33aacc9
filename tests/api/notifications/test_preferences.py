"""Notification preferences over HTTP: per-category channel overrides, tenant defaults an admin locks."""

from __future__ import annotations

import secrets
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.kit import TenantKit

PREFERENCES = "/api/v1/notifications/preferences"


def _choices(body: dict[str, Any], category: str) -> dict[str, Any]:
    [choice] = [c for c in body["categories"] if c["category"] == category]
    return choice


async def _send(client: AsyncTestClient[Litestar], tenant: TenantKit, category: str) -> dict[str, Any]:
    """Notify the staff user in ``category``; their deliveries by channel: (status, reason)."""
    sent = await client.post(
        "/api/v1/notifications",
        json={
            "recipients": {"users": [str(tenant.users["staff"])]},
            "category": category,
            "title": "Restock shelf 4",
            "idempotency_key": secrets.token_hex(8),
        },
        headers=await tenant.headers(client, "supervisor"),
    )
    assert sent.status_code == 201, sent.text
    [notification_id] = sent.json()["ids"]
    deliveries = await client.get(
        f"/api/v1/notifications/{notification_id}/deliveries", headers=await tenant.headers(client, "staff")
    )
    return {d["channel"]: (d["status"], d.get("reason")) for d in deliveries.json()}


async def test_the_tenant_defaults_are_shown_until_a_user_overrides_them(
    client: AsyncTestClient[Litestar], tenant: TenantKit
) -> None:
    staff = await tenant.headers(client, "staff")
    before = (await client.get(PREFERENCES, headers=staff)).json()
    assert (before["muted"], before["digest_minutes"], before["timezone"]) == (False, 60, "UTC")
    assert _choices(before, "mention") == {
        "category": "mention",
        "name": "Mentions",
        "locked": False,
        "in_app": True,
        "email": True,
        "push": True,
    }
    changed = await client.put(
        PREFERENCES,
        json={"channels": [{"category": "mention", "channel": "push", "enabled": False}]},
        headers=staff,
    )
    assert changed.status_code == 200, changed.text
    assert _choices(changed.json(), "mention")["push"] is False
    assert _choices(changed.json(), "task")["push"] is True  # other categories keep their defaults
    assert _choices((await client.get(PREFERENCES, headers=staff)).json(), "mention")["push"] is False


async def test_a_users_override_decides_the_channels_of_their_notifications(
    client: AsyncTestClient[Litestar], tenant: TenantKit
) -> None:
    await client.put(
        PREFERENCES,
        json={
            "channels": [
                {"category": "mention", "channel": "push", "enabled": False},
                {"category": "report", "channel": "push", "enabled": True},
            ]
        },
        headers=await tenant.headers(client, "staff"),
    )
    assert (await _send(client, tenant, "mention"))["push"] == ("skipped", "preference")
    assert (await _send(client, tenant, "report"))["push"] == ("queued", None)  # off by default, on for this user
    # Another user of the tenant still gets the defaults.
    other = await client.get(PREFERENCES, headers=await tenant.headers(client, "supervisor"))
    assert _choices(other.json(), "mention")["push"] is True


async def test_an_admin_locks_a_tenant_default_and_user_overrides_are_refused_then_ignored(
    client: AsyncTestClient[Litestar], tenant: TenantKit
) -> None:
    staff = await tenant.headers(client, "staff")
    earlier = {"channels": [{"category": "task", "channel": "email", "enabled": False}]}
    assert (await client.put(PREFERENCES, json=earlier, headers=staff)).status_code == 200

    locked = await client.patch(
        "/api/v1/notification-categories/task",
        json={"email": True, "locked": True},
        headers=await tenant.headers(client, "admin"),
    )
    assert locked.status_code == 200, locked.text
    assert (locked.json()["locked"], locked.json()["email"]) == (True, True)

    refused = await client.put(
        PREFERENCES, json={"channels": [{"category": "task", "channel": "push", "enabled": False}]}, headers=staff
    )
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "category_locked"
    assert refused.json()["error"]["details"] == {"category": "task"}
    shown = _choices((await client.get(PREFERENCES, headers=staff)).json(), "task")
    assert (shown["locked"], shown["email"], shown["push"]) == (True, True, True)
    # The override stored before the lock no longer counts.
    assert (await _send(client, tenant, "task"))["email"] == ("queued", None)


async def test_a_refused_change_changes_nothing_else(client: AsyncTestClient[Litestar], tenant: TenantKit) -> None:
    admin = await tenant.headers(client, "admin")
    await client.patch("/api/v1/notification-categories/task", json={"locked": True}, headers=admin)
    staff = await tenant.headers(client, "staff")
    refused = await client.put(
        PREFERENCES,
        json={"muted": True, "channels": [{"category": "task", "channel": "push", "enabled": False}]},
        headers=staff,
    )
    assert refused.status_code == 409
    assert (await client.get(PREFERENCES, headers=staff)).json()["muted"] is False


async def test_only_notification_admins_change_tenant_defaults(
    client: AsyncTestClient[Litestar], tenant: TenantKit
) -> None:
    response = await client.patch(
        "/api/v1/notification-categories/task", json={"locked": True}, headers=await tenant.headers(client, "staff")
    )
    assert response.status_code == 403


async def test_bad_preferences_are_refused_with_a_code(client: AsyncTestClient[Litestar], tenant: TenantKit) -> None:
    staff = await tenant.headers(client, "staff")
    unknown = await client.put(
        PREFERENCES, json={"channels": [{"category": "no-such", "channel": "push", "enabled": False}]}, headers=staff
    )
    assert (unknown.status_code, unknown.json()["error"]["code"]) == (422, "unknown_category")
    clock = await client.put(PREFERENCES, json={"quiet_hours": {"start": "25:00", "end": "07:00"}}, headers=staff)
    assert clock.status_code == 400
    channel = await client.put(
        PREFERENCES, json={"channels": [{"category": "task", "channel": "sms", "enabled": True}]}, headers=staff
    )
    assert channel.status_code == 400
