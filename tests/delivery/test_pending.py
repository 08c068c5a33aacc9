"""A batch's reads and records touch the rows of its batch only, however many the tenant has."""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING

import asyncpg
from sqlalchemy import select, text

from api.runtime import Runtime
from delivery.notify import Recipients, notify
from delivery.outcomes import DeliveryUpdate, write_outcomes
from delivery.pending import load_pending
from delivery.worker import DONE
from persistence.backup import libpq_url
from persistence.jobs import ClaimedJob
from persistence.models import Job, NotificationDelivery
from tests.kit import TenantKit

if TYPE_CHECKING:
    from uuid import UUID

    from sqlalchemy.ext.asyncio import AsyncSession

OTHERS = 3000
"""Notifications of the tenant besides the batch (a table of a hundred pages and more, where reading
the whole of it is never the cheap plan): a lookup that scanned the tenant's rows would read them."""
A_HANDFUL = 50
"""Rows a lookup of a batch may read at most: about a sixtieth of ``OTHERS``, far above what any plan of an
indexed lookup reads, far below a scan of the tenant's rows."""


async def _notify_among_many(runtime: Runtime, tenant: TenantKit) -> list[UUID]:
    """Two notifications through ``notify``, and ``OTHERS`` finished copies of the first with their
    deliveries and jobs (written as the owner in one statement: ``notify`` would take a minute)."""
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        ids = [
            (
                await notify(
                    session,
                    tenant_id=tenant.id,
                    recipients=Recipients(users=[tenant.users["staff"]]),
                    category="safety",
                    priority="critical",
                    title="Spill in aisle 4",
                    body="Cordon it off.",
                    idempotency_key=secrets.token_hex(8),
                )
            )[0]
            for _ in range(2)
        ]
    owner = await asyncpg.connect(libpq_url(runtime.settings.database_url or ""))
    try:
        await owner.execute(_COPIES, ids[0], OTHERS)
    finally:
        await owner.close()
    return ids


_COPIES = """
    WITH copies AS (
        INSERT INTO notification
        SELECT (n).* FROM (
            SELECT jsonb_populate_record(n, jsonb_build_object('id', gen_random_uuid())) AS n
              FROM notification AS n, generate_series(1, $2) WHERE n.id = $1
        ) AS c
        RETURNING id
    ), deliveries AS (
        INSERT INTO notification_delivery
        SELECT (d).* FROM (
            SELECT jsonb_populate_record(d, jsonb_build_object('id', gen_random_uuid(), 'notification_id', c.id)) AS d
              FROM notification_delivery AS d, copies AS c WHERE d.notification_id = $1
        ) AS x
    )
    INSERT INTO job
    SELECT (j).* FROM (
        SELECT jsonb_populate_record(j, jsonb_build_object(
                   'id', gen_random_uuid(), 'idempotency_key', j.kind || ':' || c.id,
                   'status', 'done', 'finished_at', now())) AS j
          FROM job AS j, copies AS c WHERE j.idempotency_key LIKE '%' || $1::text
    ) AS y
"""


async def _rows_read(session: AsyncSession, table: str) -> int:
    """Rows this transaction has read from ``table`` so far, by sequential or index scans."""
    read = await session.scalar(
        text(
            "SELECT coalesce(seq_tup_read, 0) + coalesce(idx_tup_fetch, 0)"
            " FROM pg_stat_xact_user_tables WHERE relname = :table"
        ),
        {"table": table},
    )
    return int(read or 0)


async def test_loading_a_batch_reads_its_own_notifications_and_deliveries_only(
    runtime: Runtime, tenant: TenantKit
) -> None:
    ids = await _notify_among_many(runtime, tenant)
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        pending = await load_pending(session, ids[:2], "push")
        read = {table: await _rows_read(session, table) for table in ("notification", "notification_delivery")}
    assert set(pending) == set(ids[:2])
    # How many rows a lookup of two reads depends on the plan (deliveries on other channels filtered out,
    # a bitmap scan's page; 3 and 8 were seen): a handful, never the tenant's other 3,000.
    assert read["notification"] <= A_HANDFUL
    assert read["notification_delivery"] <= A_HANDFUL


async def test_recording_outcomes_reads_the_recorded_deliveries_and_jobs_only(
    runtime: Runtime, tenant: TenantKit
) -> None:
    ids = await _notify_among_many(runtime, tenant)
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        deliveries = (
            await session.scalars(
                select(NotificationDelivery.id).where(
                    NotificationDelivery.notification_id.in_(ids[:2]), NotificationDelivery.channel == "push"
                )
            )
        ).all()
        jobs = (await session.execute(select(Job).where(Job.idempotency_key.contains(str(ids[0]))))).scalars().all()
    claimed = [
        ClaimedJob(
            id=job.id,
            tenant_id=job.tenant_id,
            kind=job.kind,
            payload=job.payload,
            attempts=job.attempts,
            max_attempts=job.max_attempts,
        )
        for job in jobs
    ]
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        before = {table: await _rows_read(session, table) for table in ("job", "notification_delivery")}
        updates = [DeliveryUpdate(id=delivery_id, status="sent") for delivery_id in deliveries]
        await write_outcomes(session, updates, [(job, DONE) for job in claimed])
        read = {table: await _rows_read(session, table) - before[table] for table in before}
    assert len(deliveries) == 2
    assert claimed
    assert read["notification_delivery"] <= len(deliveries)
    assert read["job"] <= len(claimed)
