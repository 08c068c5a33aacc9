"""Retention per domain: the policy (forever by default, set by an admin; chat keeps the messages' and files'
days), and the sweep that applies it (the worker's job too), audits it and keeps the audit chain verifiable."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import create_async_engine
from uuid_utils.compat import uuid7

from api.privacy.jobs import RETENTION_JOB, privacy_job_handlers
from api.privacy.retention import SWEEP_ACTION, sweep_privacy
from api.runtime import Runtime
from api.settings import Settings
from channels.storage import LocalFileStorage
from persistence.audit_chain import verify_tenant
from persistence.engine import asyncpg_url
from persistence.jobs import ClaimedJob
from persistence.models import AttendanceRecord, AuditEvent, Notification
from tests.api.fieldops.fieldkit import make_workplace, stay
from tests.api.identity.arrange import refusal
from tests.api.privacy.arrange import Client, person, with_data_everywhere
from tests.kit import TenantKit

FOREVER = {"messages": None, "files": None, "attendance": None, "audit": None, "notifications": None}


async def test_the_default_policy_keeps_everything_forever_with_tombstones(client: Client, tenant: TenantKit) -> None:
    response = await client.get("/api/v1/privacy/policy", headers=await tenant.headers(client, "admin"))
    assert response.json() == {"message_erasure": "tombstone", "retention": FOREVER}


async def test_an_admin_sets_the_days_of_each_domain_and_chats_follow(client: Client, tenant: TenantKit) -> None:
    admin = await tenant.headers(client, "admin")
    policy = {"message_erasure": "anonymise", "retention": {**FOREVER, "messages": 90, "files": 60, "audit": 400}}
    assert (await client.put("/api/v1/privacy/policy", json=policy, headers=admin)).json() == policy
    assert (await client.get("/api/v1/privacy/policy", headers=admin)).json() == policy
    chat = await client.get("/api/v1/tenants/current/retention", headers=admin)
    assert (chat.json()["message_days"], chat.json()["file_days"]) == (90, 60)


async def test_a_bad_policy_is_refused_and_changes_nothing(client: Client, tenant: TenantKit) -> None:
    admin = await tenant.headers(client, "admin")
    for bad in ({"retention": {"audit": 0}}, {"retention": {"payroll": 5}}, {"message_erasure": "shred"}):
        assert refusal(await client.put("/api/v1/privacy/policy", json=bad, headers=admin))[0] == 400, bad
    response = await client.get("/api/v1/privacy/policy", headers=admin)
    assert response.json()["retention"] == FOREVER


async def test_the_sweep_removes_what_the_policy_no_longer_keeps_and_audits_it(
    client: Client, tenant: TenantKit, runtime: Runtime, settings: Settings
) -> None:
    admin = await tenant.headers(client, "admin")
    someone, other = await person(client, tenant), await person(client, tenant)
    await with_data_everywhere(client, tenant, someone, other)
    workplace = await make_workplace(client, admin)
    await stay(tenant, other.id, workplace["id"], datetime.now(UTC) - timedelta(hours=1), None)
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        read = await session.execute(
            update(Notification)
            .where(Notification.user_id == someone.id)
            .values(state="read")
            .returning(Notification.id)
        )
        mine = len(read.all())
    policy = {"retention": {**FOREVER, "attendance": 30, "audit": 30, "notifications": 30}}
    assert (await client.put("/api/v1/privacy/policy", json=policy, headers=admin)).status_code == 200
    storage = LocalFileStorage(root=settings.data_path / "files")
    later = datetime.now(UTC) + timedelta(days=31)
    report = await sweep_privacy(db=runtime.db, storage=storage, tenant_id=tenant.id, now=later)
    assert (report.attendance_records, report.notifications) == (1, mine)
    assert report.audit_entries > 0
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        open_stays = await session.scalar(select(func.count()).select_from(AttendanceRecord))
        unread = set(await session.scalars(select(Notification.user_id)))
        (swept,) = await session.scalars(select(AuditEvent).where(AuditEvent.action == SWEEP_ACTION))
    assert (open_stays, unread) == (1, {other.id})
    assert swept.details["audit_entries"] == report.audit_entries
    engine = create_async_engine(asyncpg_url(settings.database_url or ""))
    try:
        async with engine.connect() as connection:
            chain = await verify_tenant(connection, tenant.id)
    finally:
        await engine.dispose()
    assert (chain.broken, chain.first_seq) == (None, report.audit_entries + 1)


async def test_with_everything_kept_the_sweep_removes_nothing(
    tenant: TenantKit, runtime: Runtime, settings: Settings
) -> None:
    storage = LocalFileStorage(root=settings.data_path / "files")
    later = datetime.now(UTC) + timedelta(days=3650)
    report = await sweep_privacy(db=runtime.db, storage=storage, tenant_id=tenant.id, now=later)
    assert not report.removed_anything


async def test_the_worker_job_applies_the_tenants_policy(
    client: Client, tenant: TenantKit, runtime: Runtime, settings: Settings
) -> None:
    admin = await tenant.headers(client, "admin")
    someone = await person(client, tenant)
    notice = {"recipients": {"users": [str(someone.id)]}, "category": "task", "title": "Old", "idempotency_key": "old"}
    assert (await client.post("/api/v1/notifications", json=notice, headers=admin)).status_code == 201
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        await session.execute(
            update(Notification)
            .where(Notification.user_id == someone.id)
            .values(state="read", created_at=datetime.now(UTC) - timedelta(days=40))
        )
    policy = {"retention": {**FOREVER, "notifications": 30}}
    assert (await client.put("/api/v1/privacy/policy", json=policy, headers=admin)).status_code == 200
    storage = LocalFileStorage(root=settings.data_path / "files")
    job = ClaimedJob(id=uuid7(), tenant_id=tenant.id, kind=RETENTION_JOB, payload={}, attempts=1, max_attempts=3)

    await privacy_job_handlers(db=runtime.db, storage=storage)[RETENTION_JOB](job)

    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        left = await session.scalar(select(func.count()).where(Notification.user_id == someone.id))
        swept = list(await session.scalars(select(AuditEvent.details).where(AuditEvent.action == SWEEP_ACTION)))
    assert left == 0
    assert [entry["notifications"] for entry in swept] == [1]
