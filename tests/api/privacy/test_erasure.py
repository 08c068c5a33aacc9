"""Erasing a person: nothing of them left in any table (bytes of stored JSON and CSV included), the audit chain
intact, sessions and files gone; the last admin, oneself and strangers refused."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import create_async_engine

from api.provisioning import create_user
from api.reports.jobs import run_report
from api.reports.services import enqueue_due_runs
from api.runtime import Runtime
from api.settings import Settings
from persistence.audit_chain import ERASURE_ACTION, verify_tenant
from persistence.engine import asyncpg_url
from persistence.models import AuditEvent, InboxEvent, Message, ReportRun, User
from tests.api.identity.arrange import refusal, signed_in_with
from tests.api.privacy.arrange import Client, person, places_quoting, with_data_everywhere
from tests.kit import PASSWORD, TenantKit


async def chain_intact(settings: Settings, kit: TenantKit) -> bool:
    engine = create_async_engine(asyncpg_url(settings.database_url or ""))
    try:
        async with engine.connect() as connection:
            report = await verify_tenant(connection, kit.id)
    finally:
        await engine.dispose()
    assert report.broken is None, report.broken
    return report.intact


async def test_erasure_leaves_the_persons_email_and_name_in_no_table(
    client: Client, tenant: TenantKit, settings: Settings
) -> None:
    someone, other = await person(client, tenant), await person(client, tenant)
    await with_data_everywhere(client, tenant, someone, other)
    assert await places_quoting(settings.database_url or "", someone.email, someone.name)
    erased = await client.post(
        f"/api/v1/privacy/users/{someone.id}/erasure", headers=await tenant.headers(client, "admin")
    )
    assert erased.status_code == 200, erased.text
    assert await places_quoting(settings.database_url or "", someone.email, someone.name) == []
    assert await places_quoting(settings.database_url or "", other.email, other.name) != []


async def test_erasure_keeps_the_audit_chain_intact_and_pseudonymises_the_persons_entries(
    client: Client, tenant: TenantKit, settings: Settings, runtime: Runtime
) -> None:
    someone, other = await person(client, tenant), await person(client, tenant)
    await with_data_everywhere(client, tenant, someone, other)
    erased = await client.post(
        f"/api/v1/privacy/users/{someone.id}/erasure", headers=await tenant.headers(client, "admin")
    )
    assert erased.json()["audit_entries"] > 0
    assert await chain_intact(settings, tenant)
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        theirs = list(await session.scalars(select(AuditEvent).where(AuditEvent.actor_user_id == someone.id)))
        erasure = await session.scalar(select(AuditEvent).where(AuditEvent.action == ERASURE_ACTION))
    assert theirs
    assert erasure is not None
    assert all((e.ip, e.user_agent, e.pseudonymised_by) == (None, None, erasure.seq) for e in theirs)


async def test_erasure_ends_sessions_deletes_files_and_tombstones_messages(
    client: Client, tenant: TenantKit, settings: Settings, runtime: Runtime
) -> None:
    someone, other = await person(client, tenant), await person(client, tenant)
    await with_data_everywhere(client, tenant, someone, other)
    stored = settings.data_path / "files" / str(tenant.id)
    before = {path for path in stored.rglob("*") if path.is_file()}
    erased = await client.post(
        f"/api/v1/privacy/users/{someone.id}/erasure", headers=await tenant.headers(client, "admin")
    )
    body = erased.json()
    assert (body["messages"], body["files_deleted"], body["sessions_revoked"]) == ("tombstone", 1, 1)
    assert len(before - {path for path in stored.rglob("*") if path.is_file()}) == 1
    assert refusal(await client.get("/api/v1/users/me", headers=someone.headers)) == (401, "unauthenticated")
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        user = await session.get_one(User, someone.id)
        bodies = list(await session.scalars(select(Message.body).where(Message.author_id == someone.id)))
    assert (user.name, user.status, user.email.endswith("@erased.invalid"), user.phone) == (
        "Erased user",
        "disabled",
        True,
        None,
    )
    assert bodies == [""]


async def test_under_the_anonymise_policy_messages_keep_their_text_without_the_name(
    client: Client, tenant: TenantKit, runtime: Runtime
) -> None:
    admin = await tenant.headers(client, "admin")
    policy = await client.put("/api/v1/privacy/policy", json={"message_erasure": "anonymise"}, headers=admin)
    assert policy.status_code == 200, policy.text
    someone, other = await person(client, tenant), await person(client, tenant)
    await with_data_everywhere(client, tenant, someone, other)
    await client.post(f"/api/v1/privacy/users/{someone.id}/erasure", headers=admin)
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        (body,) = await session.scalars(select(Message.body).where(Message.author_id == someone.id))
    assert body.startswith(f"{someone.message}: I am Erased user, mail erased-")


async def test_erasing_the_last_admin_is_refused_and_changes_nothing(
    client: Client, tenant: TenantKit, runtime: Runtime
) -> None:
    privacy_officer = await signed_in_with(client, tenant, ["privacy:manage"])
    refused = await client.post(f"/api/v1/privacy/users/{tenant.users['admin']}/erasure", headers=privacy_officer)
    assert refusal(refused) == (409, "last_admin")
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        admin = await session.get_one(User, tenant.users["admin"])
        erasures = await session.scalar(select(AuditEvent.id).where(AuditEvent.action == ERASURE_ACTION))
    assert (admin.name, admin.status, erasures) == ("Admin", "active", None)
    assert (await client.get("/api/v1/users/me", headers=await tenant.headers(client, "admin"))).status_code == 200


async def test_erasing_oneself_twice_or_a_stranger_is_refused(
    client: Client, tenant: TenantKit, other_tenant: TenantKit
) -> None:
    admin = await tenant.headers(client, "admin")
    assert refusal(await client.post(f"/api/v1/privacy/users/{tenant.users['admin']}/erasure", headers=admin)) == (
        409,
        "cannot_erase_self",
    )
    stranger = other_tenant.users["staff"]
    assert refusal(await client.post(f"/api/v1/privacy/users/{stranger}/erasure", headers=admin)) == (404, "not_found")
    staff = tenant.users["staff"]
    assert (await client.post(f"/api/v1/privacy/users/{staff}/erasure", headers=admin)).status_code == 200
    assert refusal(await client.post(f"/api/v1/privacy/users/{staff}/erasure", headers=admin)) == (
        409,
        "already_erased",
    )


async def test_staff_cannot_erase_anyone(client: Client, tenant: TenantKit) -> None:
    staff = await tenant.headers(client, "staff")
    refused = await client.post(f"/api/v1/privacy/users/{tenant.users['supervisor']}/erasure", headers=staff)
    assert refusal(refused) == (403, "forbidden")


async def test_a_tenant_keeps_its_erased_users_email_free_for_a_new_account(
    client: Client, tenant: TenantKit, runtime: Runtime
) -> None:
    someone = await person(client, tenant)
    await client.post(f"/api/v1/privacy/users/{someone.id}/erasure", headers=await tenant.headers(client, "admin"))
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        again = await create_user(
            session, tenant_id=tenant.id, email=someone.email, name="Back", password=PASSWORD, roles=["staff"]
        )
    assert again.id != someone.id


async def test_erasure_rewrites_the_name_in_another_persons_inbox_events_and_kept_report_csv(
    client: Client, tenant: TenantKit, settings: Settings, runtime: Runtime
) -> None:
    someone, other = await person(client, tenant), await person(client, tenant)
    await with_data_everywhere(client, tenant, someone, other)
    admin = await tenant.headers(client, "admin")
    body = {"name": "Tasks", "template": "task_completion", "cron": "0 7 * * *", "recipients": ["a@b.example"]}
    assert (await client.post("/api/v1/reports/schedules", json=body, headers=admin)).status_code == 201
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        await enqueue_due_runs(session, tenant_id=tenant.id, now=datetime.now(UTC) + timedelta(days=1))
        run_id = await session.scalar(select(ReportRun.id))
        assert run_id is not None
        await run_report(session, tenant_id=tenant.id, run_id=run_id, now=datetime.now(UTC))
    inbox_and_report = {"notification_inbox_event.payload", "report_run.output"}
    assert inbox_and_report <= set(await places_quoting(settings.database_url or "", someone.name))

    await client.post(f"/api/v1/privacy/users/{someone.id}/erasure", headers=admin)

    assert (
        inbox_and_report & set(await places_quoting(settings.database_url or "", someone.email, someone.name)) == set()
    )
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        output = await session.scalar(select(ReportRun.output).where(ReportRun.id == run_id))
        payloads = list(await session.scalars(select(InboxEvent.payload).where(InboxEvent.user_id == other.id)))
    assert output is not None
    assert b"Erased user" in output
    welcome = [json.loads(p)["notification"] for p in payloads if b"Welcome" in p]
    assert [(n["title"], n["body"]) for n in welcome] == [
        ("Welcome Erased user", f"Write to erased-{someone.id.hex}@erased.invalid")
    ]
