"""Arranging delivery tests: send a notification through ``notify``, subscribe to push, read deliveries, age jobs."""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar
from uuid import UUID

import asyncpg
from sqlalchemy import select

from api.runtime import Runtime
from delivery.notify import Recipients, notify
from delivery.subscriptions import save_subscription
from persistence.backup import libpq_url
from persistence.models import NotificationDelivery

if TYPE_CHECKING:
    from bench.push_service import PushService
    from tests.kit import TenantKit

T = TypeVar("T")


async def send(runtime: Runtime, tenant_id: UUID, user_id: UUID, **fields: Any) -> UUID:
    fields.setdefault("category", "safety")
    fields.setdefault("priority", "critical")
    fields.setdefault("title", "Wet floor in aisle 4")
    fields.setdefault("body", "Cordon it off until cleaned.")
    async with runtime.db.transaction(tenant_id=tenant_id) as session:
        ids = await notify(
            session,
            tenant_id=tenant_id,
            recipients=Recipients(users=[user_id]),
            idempotency_key=secrets.token_hex(8),
            **fields,
        )
    return ids[0]


async def delivery(runtime: Runtime, tenant_id: UUID, notification_id: UUID, channel: str) -> NotificationDelivery:
    async with runtime.db.transaction(tenant_id=tenant_id) as session:
        row = await session.scalar(
            select(NotificationDelivery).where(
                NotificationDelivery.notification_id == notification_id, NotificationDelivery.channel == channel
            )
        )
    assert row is not None
    return row


async def set_aside_other_tenants_jobs(database_url: str, tenant_id: UUID) -> None:
    """Finish every other tenant's waiting notification jobs (as the database owner).

    A test's worker claims jobs of every tenant; what earlier tests left queued (a critical alert
    mailed at once, an escalation whose delay ran out) must not reach this test's SMTP server or
    push service. Tests run one at a time, so nothing else is waiting on those jobs.
    """
    connection = await asyncpg.connect(libpq_url(database_url))
    try:
        await connection.execute(
            "UPDATE job SET status = 'done', last_error = 'set aside by a test', finished_at = now()"
            " WHERE status IN ('queued', 'running') AND kind LIKE 'notification.%' AND tenant_id <> $1",
            tenant_id,
        )
    finally:
        await connection.close()


async def subscribe(runtime: Runtime, tenant: TenantKit, service: PushService, endpoint: str) -> None:
    """Subscribe the tenant's staff user to push at ``endpoint`` of the local push stand-in."""
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        await save_subscription(
            session,
            tenant_id=tenant.id,
            user_id=tenant.users["staff"],
            info=service.browser.subscription(endpoint),
            allow_insecure=True,  # the stand-in speaks plain http on loopback
        )


def status_is(
    runtime: Runtime, tenant_id: UUID, notification_id: UUID, channel: str, wanted: str
) -> Callable[[], Awaitable[NotificationDelivery | None]]:
    """A check for ``eventually``: the notification's ``channel`` delivery once its status is ``wanted``."""

    async def check() -> NotificationDelivery | None:
        row = await delivery(runtime, tenant_id, notification_id, channel)
        return row if row.status == wanted else None

    return check


async def expire_leases(database_url: str, tenant_id: UUID) -> None:
    """End the lease of the tenant's running jobs now (as the database owner), as if it had run out:
    what a killed worker held becomes claimable without waiting out the real lease."""
    connection = await asyncpg.connect(libpq_url(database_url))
    try:
        await connection.execute(
            "UPDATE job SET locked_until = now() - interval '1 second' WHERE status = 'running' AND tenant_id = $1",
            tenant_id,
        )
    finally:
        await connection.close()
