"""Scheduled reports: cron checked, one run per due time, the CSV mailed (read from the real SMTP server) with a
signed link to the kept output, the history of runs, and a run failing its last attempt notifying its owner."""

from __future__ import annotations

import asyncio
import re
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest
from sqlalchemy import select, update
from uuid_utils.compat import uuid7

from api.errors import AppError
from api.reports.jobs import report_job_handlers
from api.reports.services import RUN_JOB, enqueue_due_runs
from api.runtime import Runtime
from delivery.relays import TenantRelays
from delivery.worker import Worker
from persistence.jobs import ClaimedJob
from persistence.models import Notification, ReportRun, ReportSchedule
from tests.api.fieldops.fieldkit import Client
from tests.api.identity.arrange import Headers, refusal
from tests.api.reports.arrange import add, incident, parse_csv, set_tenant_timezone
from tests.delivery.relay_server import relay_requiring_auth
from tests.delivery.test_tenant_relay import USERNAME, give_relay
from tests.kit import TenantKit, eventually
from tests.mailbox import Inbox


def handlers(runtime: Runtime, relays: TenantRelays | None = None) -> dict[str, Any]:
    settings = runtime.settings
    return report_job_handlers(
        db=runtime.db,
        mailer=runtime.mailer,
        secret=settings.resolved_secret_key(),
        public_url=settings.public_url,
        relays=relays,
    )


@asynccontextmanager
async def report_worker(runtime: Runtime, relays: TenantRelays | None = None) -> AsyncIterator[None]:
    """A worker running the report jobs, as ``fieldhub worker`` does."""
    running = Worker(db=runtime.db, handlers=handlers(runtime, relays), poll_seconds=0.5)
    stop = asyncio.Event()
    task = asyncio.create_task(running.run(stop))
    try:
        yield
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)


async def schedule(client: Client, headers: Headers, **fields: Any) -> dict[str, Any]:
    body = {"name": "Daily incidents", "template": "incidents", "cron": "0 7 * * *"} | fields
    response = await client.post("/api/v1/reports/schedules", json=body, headers=headers)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def due_runs(kit: TenantKit, now: datetime) -> int:
    async with kit.runtime.db.transaction(tenant_id=kit.id) as session:
        return await enqueue_due_runs(session, tenant_id=kit.id, now=now)


async def test_an_invalid_cron_expression_is_refused_and_nothing_is_scheduled(
    client: Client, tenant: TenantKit
) -> None:
    admin = await tenant.headers(client)
    for cron in ("61 * * * *", "* * * * * *", "every day", "0 7 * *"):
        body = {"name": "x", "template": "incidents", "cron": cron, "recipients": ["a@b.example"]}
        response = await client.post("/api/v1/reports/schedules", json=body, headers=admin)
        assert refusal(response) == (422, "invalid_cron"), cron
    listed = await client.get("/api/v1/reports/schedules", headers=admin)
    assert listed.json() == []


async def test_other_bad_schedules_are_refused_with_stable_codes(client: Client, tenant: TenantKit) -> None:
    admin = await tenant.headers(client)
    cases = [
        ({"recipients": ["not-an-address"]}, (422, "invalid_email")),
        ({"recipients": []}, (422, "invalid_schedule")),
        ({"recipients": ["a@b.example"], "template": "nope"}, (404, "unknown_report")),
    ]
    for fields, expected in cases:
        body = {"name": "x", "template": "incidents", "cron": "0 7 * * *"} | fields
        assert refusal(await client.post("/api/v1/reports/schedules", json=body, headers=admin)) == expected, fields


async def test_a_due_schedule_runs_once_in_the_tenant_time_zone(client: Client, tenant: TenantKit) -> None:
    await set_tenant_timezone(tenant, "Asia/Tokyo")
    created = await schedule(client, await tenant.headers(client), recipients=["a@b.example"])
    assert created["timezone"] == "Asia/Tokyo"
    now = datetime.now(UTC) + timedelta(days=2)

    assert await due_runs(tenant, now) == 1
    assert await due_runs(tenant, now) == 0
    assert await due_runs(tenant, now + timedelta(minutes=5)) == 0

    async with tenant.runtime.db.transaction(tenant_id=tenant.id) as session:
        run = await session.scalar(select(ReportRun).where(ReportRun.schedule_id == UUID(created["id"])))
    assert run is not None
    # 07:00 in Tokyo is 22:00 UTC the day before.
    assert (run.due_at.hour, run.due_at.minute) == (22, 0)


async def test_a_scheduled_report_arrives_by_email_with_its_csv_and_link(
    client: Client, tenant: TenantKit, runtime: Runtime, inbox: Inbox
) -> None:
    admin = await tenant.headers(client)
    recipient = f"boss@{tenant.slug}.example"
    await add(tenant, incident(tenant, "slip", at=datetime.now(UTC) - timedelta(hours=1)))
    created = await schedule(client, admin, recipients=[recipient])
    await due_runs(tenant, datetime.now(UTC) + timedelta(days=1))

    async with report_worker(runtime):
        mail = await inbox.wait_for(recipient, timeout=20)

    assert mail["Subject"] == "Report: Daily incidents"
    parts = list(mail.walk())
    attachment = next(part for part in parts if part.get_filename())
    assert attachment.get_content_type() == "text/csv"
    header, *lines = parse_csv(attachment.get_payload(decode=True).decode())
    assert header == ["type", "severity", "incidents", "open", "closed", "share_percent"]
    assert lines == [["slip", "low", "1", "1", "0", "100.0"]]
    text = next(part for part in parts if part.get_content_type() == "text/plain").get_payload(decode=True).decode()
    link = re.search(r"https?://\S+/api/v1/reports/runs/\S+/output\.csv", text)
    assert link is not None
    download = await client.get(link.group(0).split("8000", 1)[1])
    assert download.status_code == 200
    assert download.content == attachment.get_payload(decode=True)

    runs = await client.get(f"/api/v1/reports/schedules/{created['id']}/runs", headers=admin)
    [run] = runs.json()
    assert (run["status"], run["row_count"]) == ("succeeded", 1)


async def test_a_forged_download_link_finds_nothing(client: Client) -> None:
    response = await client.get("/api/v1/reports/runs/eyJ0IjoiIn0.AAAA/output.csv")
    assert refusal(response) == (404, "not_found")


async def test_a_run_failing_its_last_attempt_is_marked_failed_and_its_owner_notified(
    client: Client, tenant: TenantKit, runtime: Runtime
) -> None:
    created = await schedule(client, await tenant.headers(client), recipients=["a@b.example"])
    async with tenant.runtime.db.transaction(tenant_id=tenant.id) as session:
        await session.execute(
            update(ReportSchedule).where(ReportSchedule.id == UUID(created["id"])).values(template="withdrawn")
        )
    await due_runs(tenant, datetime.now(UTC) + timedelta(days=1))
    async with tenant.runtime.db.transaction(tenant_id=tenant.id) as session:
        run_id = await session.scalar(select(ReportRun.id).where(ReportRun.schedule_id == UUID(created["id"])))
    run = handlers(runtime)[RUN_JOB]

    async def attempt(number: int) -> None:
        job = ClaimedJob(
            id=uuid7(),
            tenant_id=tenant.id,
            kind=RUN_JOB,
            payload={"run_id": str(run_id)},
            attempts=number,
            max_attempts=3,
        )
        with pytest.raises(AppError, match="withdrawn"):
            await run(job)

    async def state() -> tuple[str, int]:
        async with tenant.runtime.db.transaction(tenant_id=tenant.id) as session:
            status = await session.scalar(select(ReportRun.status).where(ReportRun.id == run_id))
            notices = await session.scalars(
                select(Notification).where(
                    Notification.user_id == tenant.users["admin"], Notification.category == "report"
                )
            )
            return str(status), len(notices.all())

    await attempt(1)
    assert await state() == ("queued", 0)
    await attempt(3)
    assert await eventually(state) == ("failed", 1)


async def test_a_scheduled_report_of_a_tenant_with_its_own_relay_leaves_through_it(
    client: Client, tenant: TenantKit, runtime: Runtime, inbox: Inbox
) -> None:
    admin = await tenant.headers(client)
    recipient = f"boss@{tenant.slug}.example"
    password = f"pw-{secrets.token_hex(8)}"
    created = await schedule(client, admin, recipients=[recipient])
    await due_runs(tenant, datetime.now(UTC) + timedelta(days=1))
    relays = TenantRelays(keyring=runtime.settings.keyring(), default=runtime.mailer, private_hosts=True)
    with relay_requiring_auth(USERNAME, password) as (ours, _, port):
        await give_relay(runtime, tenant, port=port, password=password)
        async with report_worker(runtime, relays):
            mail = await ours.wait_for(recipient, timeout=20)
        await relays.close()
    assert (mail["Subject"], mail["From"]) == ("Report: Daily incidents", "Acme Ops <ops@acme.example>")
    assert all(message["To"] != recipient for message in inbox.messages)
    runs = await client.get(f"/api/v1/reports/schedules/{created['id']}/runs", headers=admin)
    assert [run["status"] for run in runs.json()] == ["succeeded"]
