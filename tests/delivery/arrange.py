"""Arranging delivery tests: send a notification as a test would through ``notify``, and read its deliveries."""

from __future__ import annotations

import secrets
from typing import Any, TypeVar
from uuid import UUID

import asyncpg
from sqlalchemy import select

from api.runtime import Runtime
from delivery.notify import Recipients, notify
from persistence.backup import libpq_url
from persistence.models import NotificationDelivery

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
