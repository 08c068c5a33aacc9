"""Moderation over HTTP in tests: flag, act, read a case, read one's notifications."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.kit import TenantKit

Client = AsyncTestClient[Litestar]


async def flag(client: Client, tenant: TenantKit, role: str, message_id: UUID | str, reason: str = "spam") -> str:
    """``role`` flags the message; the case's id."""
    response = await client.post(
        "/api/v1/moderation/flags",
        json={"message_id": str(message_id), "reason": reason},
        headers=await tenant.headers(client, role),
    )
    assert response.status_code == 201, response.text
    case_id: str = response.json()["case_id"]
    return case_id


async def act(
    client: Client, tenant: TenantKit, role: str, case_id: str, kind: str, reason: str = "see the rules", **extra: Any
) -> Any:
    """``role`` takes an action on the case; the response (its status is the caller's to check)."""
    return await client.post(
        f"/api/v1/moderation/cases/{case_id}/actions",
        json={"kind": kind, "reason": reason, **extra},
        headers=await tenant.headers(client, role),
    )


async def acted(client: Client, tenant: TenantKit, role: str, case_id: str, kind: str, **extra: Any) -> dict[str, Any]:
    """Like :func:`act`, asserting it was taken; the action."""
    response = await act(client, tenant, role, case_id, kind, **extra)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def queue(client: Client, tenant: TenantKit, role: str, **filters: str) -> list[str]:
    """The ids of the cases in ``role``'s queue, filtered as the list route allows."""
    response = await client.get("/api/v1/moderation/cases", params=filters, headers=await tenant.headers(client, role))
    assert response.status_code == 200, response.text
    return [c["id"] for c in response.json()]


async def notifications(client: Client, tenant: TenantKit, role: str) -> list[dict[str, Any]]:
    response = await client.get("/api/v1/notifications", headers=await tenant.headers(client, role))
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def seen_by(client: Client, tenant: TenantKit, role: str, message_id: UUID | str) -> dict[str, Any]:
    """The message as ``role`` sees it (the root of its thread)."""
    response = await client.get(f"/api/v1/messages/{message_id}/thread", headers=await tenant.headers(client, role))
    assert response.status_code == 200, response.text
    root: dict[str, Any] = response.json()["root"]
    return root
