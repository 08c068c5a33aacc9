"""One-time WebSocket tickets: short-lived, single use, bound to the session that asked."""

from __future__ import annotations

import asyncio

from litestar import Litestar
from litestar.testing import AsyncTestClient

from api.auth.services import AuthService
from api.runtime import Runtime
from tests.kit import TenantKit


async def test_a_ticket_redeems_once_for_its_user(
    client: AsyncTestClient[Litestar], tenant: TenantKit, runtime: Runtime
) -> None:
    response = await client.post("/api/v1/auth/ws-ticket", headers=await tenant.headers(client, "staff"))
    assert response.status_code == 201
    assert response.json()["expires_in"] == runtime.settings.ws_ticket_ttl_seconds
    service = AuthService(runtime=runtime)
    ticket = response.json()["ticket"]
    first, second = await asyncio.gather(service.redeem_ws_ticket(ticket), service.redeem_ws_ticket(ticket))
    holders = [h for h in (first, second) if h is not None]
    assert len(holders) == 1
    assert (holders[0].tenant_id, holders[0].user_id) == (tenant.id, tenant.users["staff"])


async def test_a_ticket_expires_within_its_lifetime(
    client: AsyncTestClient[Litestar], tenant: TenantKit, runtime: Runtime
) -> None:
    ticket = (await client.post("/api/v1/auth/ws-ticket", headers=await tenant.headers(client, "staff"))).json()[
        "ticket"
    ]
    keys = await runtime.redis.keys(f"t:{tenant.id}:wsticket:*")
    assert len(keys) == 1
    assert 0 < await runtime.redis.ttl(keys[0]) <= runtime.settings.ws_ticket_ttl_seconds
    assert ticket.startswith(tenant.id.hex + ".")


async def test_a_ticket_needs_a_signed_in_user(client: AsyncTestClient[Litestar]) -> None:
    assert (await client.post("/api/v1/auth/ws-ticket")).status_code == 401
