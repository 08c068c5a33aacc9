"""Due times watched by the worker (a moved clock, never a sleep): "due soon" at the tenant's lead, "overdue" once
passed, each once per task and due time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from api.runtime import Runtime
from api.tasks.jobs import DEADLINES_JOB, task_job_handlers
from persistence.models import Notification
from tests.api.fieldops.fieldkit import Client, periodic_job
from tests.api.fieldops.test_tasks_api import make_task
from tests.kit import TenantKit

DUE = datetime(2027, 6, 1, 9, tzinfo=UTC)


async def run_deadlines(runtime: Runtime, tenant: TenantKit, now: datetime) -> None:
    await task_job_handlers(db=runtime.db)[DEADLINES_JOB](periodic_job(tenant, DEADLINES_JOB, now))


async def titles(runtime: Runtime, tenant: TenantKit) -> list[str]:
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        rows = await session.scalars(
            select(Notification.title)
            .where(Notification.user_id == tenant.users["staff"], Notification.category == "task")
            .order_by(Notification.created_at, Notification.id)
        )
        return list(rows.all())


async def staff_task(client: Client, tenant: TenantKit, **fields: object) -> dict[str, object]:
    return await make_task(
        client,
        await tenant.headers(client),
        title="Count stock",
        assignee_id=str(tenant.users["staff"]),
        due_at=DUE.isoformat(),
        **fields,
    )


async def test_due_soon_is_sent_once_an_hour_before(client: Client, tenant: TenantKit, runtime: Runtime) -> None:
    await staff_task(client, tenant)
    await run_deadlines(runtime, tenant, DUE - timedelta(minutes=61))
    assert await titles(runtime, tenant) == ["New task: Count stock"]
    await run_deadlines(runtime, tenant, DUE - timedelta(minutes=55))
    await run_deadlines(runtime, tenant, DUE - timedelta(minutes=50))
    assert await titles(runtime, tenant) == ["New task: Count stock", "Due soon: Count stock"]


async def test_overdue_is_sent_once_after_the_due_time(client: Client, tenant: TenantKit, runtime: Runtime) -> None:
    await staff_task(client, tenant)
    await run_deadlines(runtime, tenant, DUE + timedelta(minutes=5))
    await run_deadlines(runtime, tenant, DUE + timedelta(minutes=10))
    assert (await titles(runtime, tenant)).count("Overdue: Count stock") == 1


async def test_a_new_due_time_is_announced_again(client: Client, tenant: TenantKit, runtime: Runtime) -> None:
    task = await staff_task(client, tenant)
    await run_deadlines(runtime, tenant, DUE + timedelta(minutes=5))
    later = DUE + timedelta(days=1)
    moved = await client.patch(
        f"/api/v1/tasks/{task['id']}", json={"due_at": later.isoformat()}, headers=await tenant.headers(client)
    )
    assert moved.status_code == 200, moved.text
    await run_deadlines(runtime, tenant, later + timedelta(minutes=5))
    assert (await titles(runtime, tenant)).count("Overdue: Count stock") == 2


async def test_a_done_task_is_never_overdue(client: Client, tenant: TenantKit, runtime: Runtime) -> None:
    task = await staff_task(client, tenant)
    done = await client.post(
        f"/api/v1/tasks/{task['id']}/status", json={"status": "done"}, headers=await tenant.headers(client, "staff")
    )
    assert done.status_code == 200, done.text
    await run_deadlines(runtime, tenant, DUE + timedelta(minutes=5))
    assert await titles(runtime, tenant) == ["New task: Count stock"]


async def test_the_tenant_sets_the_due_soon_lead(client: Client, tenant: TenantKit, runtime: Runtime) -> None:
    admin = await tenant.headers(client)
    changed = await client.patch(
        "/api/v1/tenants/current", json={"settings": {"tasks": {"due_soon_minutes": 15}}}, headers=admin
    )
    assert changed.status_code == 200, changed.text
    await staff_task(client, tenant)
    await run_deadlines(runtime, tenant, DUE - timedelta(minutes=30))
    assert "Due soon: Count stock" not in await titles(runtime, tenant)
    await run_deadlines(runtime, tenant, DUE - timedelta(minutes=10))
    assert "Due soon: Count stock" in await titles(runtime, tenant)
