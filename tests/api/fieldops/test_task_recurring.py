"""Recurring tasks: the rule's local wall-clock time across DST, templates and their bad input, and the worker's
idempotent generation of one task per occurrence, assigned as the template says."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from api.runtime import Runtime
from api.tasks.jobs import RECURRING_JOB, task_job_handlers
from api.tasks.recurrence import Rule, local_instant, occurrences
from persistence.models import AuditEvent, Notification, Role, Task, TaskChecklistItem
from tests.api.fieldops.fieldkit import Client, assign, make_workplace, periodic_job
from tests.api.identity.arrange import Headers, refusal
from tests.kit import TenantKit

PARIS = ZoneInfo("Europe/Paris")
# Europe/Paris moves to summer time on Sunday 2027-03-28 at 02:00 (to 03:00), and back on 2026-10-25.


async def run_recurring(runtime: Runtime, tenant: TenantKit, now: datetime) -> None:
    await task_job_handlers(db=runtime.db)[RECURRING_JOB](periodic_job(tenant, RECURRING_JOB, now))


async def make_template(client: Client, headers: Headers, **fields: Any) -> dict[str, Any]:
    body = {"title": "Store visit", "frequency": "weekly", "weekdays": [0], "due_time": "09:00"} | fields
    body.setdefault("starts_on", "2026-11-01")
    response = await client.post("/api/v1/task-templates", json=body, headers=headers)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def generated(runtime: Runtime, tenant: TenantKit) -> list[Task]:
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        rows = await session.scalars(select(Task).where(Task.template_id.is_not(None)).order_by(Task.due_at))
        return list(rows.all())


async def template_at_paris_store(client: Client, tenant: TenantKit, **fields: Any) -> dict[str, Any]:
    admin = await tenant.headers(client)
    workplace = await make_workplace(client, admin, timezone="Europe/Paris")
    return await make_template(client, admin, workplace_id=workplace["id"], **fields)


# -- the rule ------------------------------------------------------------------------------------


def test_a_weekly_time_keeps_its_wall_clock_across_the_spring_change() -> None:
    rule = Rule(frequency="weekly", weekdays=(0,), due_time=time(9), starts_on=date(2026, 1, 1))
    found = occurrences(rule, PARIS, datetime(2027, 3, 19, tzinfo=UTC), datetime(2027, 4, 1, tzinfo=UTC))
    assert found == [datetime(2027, 3, 22, 8, tzinfo=UTC), datetime(2027, 3, 29, 7, tzinfo=UTC)]


def test_a_weekly_time_keeps_its_wall_clock_across_the_autumn_change() -> None:
    rule = Rule(frequency="weekly", weekdays=(0,), due_time=time(9), starts_on=date(2026, 1, 1))
    found = occurrences(rule, PARIS, datetime(2026, 10, 20, tzinfo=UTC), datetime(2026, 11, 3, tzinfo=UTC))
    assert found == [datetime(2026, 10, 26, 8, tzinfo=UTC), datetime(2026, 11, 2, 8, tzinfo=UTC)]
    assert found[0].astimezone(PARIS).hour == 9


def test_a_skipped_local_time_falls_after_the_gap() -> None:
    assert local_instant(date(2027, 3, 28), time(2, 30), PARIS) == datetime(2027, 3, 28, 1, 30, tzinfo=UTC)


def test_a_day_of_month_beyond_the_month_falls_on_its_last_day() -> None:
    rule = Rule(frequency="monthly", month_day=31, due_time=time(12), starts_on=date(2026, 1, 1))
    found = occurrences(rule, ZoneInfo("UTC"), datetime(2026, 2, 1, tzinfo=UTC), datetime(2026, 4, 1, tzinfo=UTC))
    assert [d.date() for d in found] == [date(2026, 2, 28), date(2026, 3, 31)]


def test_nothing_falls_outside_the_start_and_end_dates() -> None:
    rule = Rule(frequency="daily", due_time=time(8), starts_on=date(2026, 5, 2), ends_on=date(2026, 5, 3))
    found = occurrences(rule, ZoneInfo("UTC"), datetime(2026, 5, 1, tzinfo=UTC), datetime(2026, 5, 9, tzinfo=UTC))
    assert [d.day for d in found] == [2, 3]


# -- templates -----------------------------------------------------------------------------------


async def test_a_weekly_template_without_weekdays_is_refused(client: Client, tenant: TenantKit) -> None:
    response = await client.post(
        "/api/v1/task-templates",
        json={
            "title": "Visit",
            "frequency": "weekly",
            "due_time": "09:00",
            "starts_on": "2026-03-01",
            "timezone": "UTC",
        },
        headers=await tenant.headers(client),
    )
    assert refusal(response) == (422, "invalid_recurrence")


async def test_a_template_without_workplace_needs_a_timezone(client: Client, tenant: TenantKit) -> None:
    response = await client.post(
        "/api/v1/task-templates",
        json={"title": "Visit", "frequency": "daily", "due_time": "09:00", "starts_on": "2026-03-01"},
        headers=await tenant.headers(client),
    )
    assert refusal(response) == (422, "timezone_required")


async def test_an_unknown_timezone_is_refused(client: Client, tenant: TenantKit) -> None:
    response = await client.post(
        "/api/v1/task-templates",
        json={
            "title": "V",
            "frequency": "daily",
            "due_time": "09:00",
            "starts_on": "2026-03-01",
            "timezone": "Mars/Base",
        },
        headers=await tenant.headers(client),
    )
    assert refusal(response) == (422, "invalid_timezone")


async def test_a_malformed_due_time_is_refused(client: Client, tenant: TenantKit) -> None:
    response = await client.post(
        "/api/v1/task-templates",
        json={"title": "V", "frequency": "daily", "due_time": "9h", "starts_on": "2026-03-01", "timezone": "UTC"},
        headers=await tenant.headers(client),
    )
    assert response.status_code == 400, response.text


async def test_another_tenants_workplace_is_not_found(
    client: Client, tenant: TenantKit, other_tenant: TenantKit
) -> None:
    theirs = await make_workplace(client, await other_tenant.headers(client))
    response = await client.post(
        "/api/v1/task-templates",
        json={
            "title": "V",
            "frequency": "daily",
            "due_time": "09:00",
            "starts_on": "2026-03-01",
            "workplace_id": theirs["id"],
        },
        headers=await tenant.headers(client),
    )
    assert refusal(response) == (404, "not_found")


async def test_staff_cannot_create_templates(client: Client, tenant: TenantKit) -> None:
    response = await client.post(
        "/api/v1/task-templates",
        json={"title": "V", "frequency": "daily", "due_time": "09:00", "starts_on": "2026-03-01", "timezone": "UTC"},
        headers=await tenant.headers(client, "staff"),
    )
    assert refusal(response) == (403, "forbidden")


async def test_another_tenants_template_is_not_found(
    client: Client, tenant: TenantKit, other_tenant: TenantKit
) -> None:
    theirs = await make_template(client, await other_tenant.headers(client), timezone="UTC")
    response = await client.get(f"/api/v1/task-templates/{theirs['id']}", headers=await tenant.headers(client))
    assert refusal(response) == (404, "not_found")


# -- generation ----------------------------------------------------------------------------------


async def test_the_worker_creates_each_occurrence_in_the_workplaces_time_zone(
    client: Client, tenant: TenantKit, runtime: Runtime
) -> None:
    await template_at_paris_store(client, tenant, checklist=["Check price tags", "Photo of the shelf"])
    # Friday before the change; the horizon reaches the Mondays on either side of it.
    await run_recurring(runtime, tenant, datetime(2027, 3, 19, 12, tzinfo=UTC))
    tasks = await generated(runtime, tenant)
    assert [t.due_at for t in tasks] == [datetime(2027, 3, 22, 8, tzinfo=UTC)]
    await run_recurring(runtime, tenant, datetime(2027, 3, 26, 12, tzinfo=UTC))
    tasks = await generated(runtime, tenant)
    assert [t.due_at for t in tasks] == [datetime(2027, 3, 22, 8, tzinfo=UTC), datetime(2027, 3, 29, 7, tzinfo=UTC)]
    assert {t.due_at.astimezone(PARIS).hour for t in tasks if t.due_at} == {9}
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        lines = await session.scalars(
            select(TaskChecklistItem.text).where(TaskChecklistItem.task_id == tasks[1].id).order_by("position")
        )
        assert lines.all() == ["Check price tags", "Photo of the shelf"]


async def test_running_the_job_again_creates_nothing_twice(client: Client, tenant: TenantKit, runtime: Runtime) -> None:
    await template_at_paris_store(client, tenant, assignee_id=str(tenant.users["staff"]))
    now = datetime(2027, 3, 19, 12, tzinfo=UTC)
    await run_recurring(runtime, tenant, now)
    await run_recurring(runtime, tenant, now)
    tasks = await generated(runtime, tenant)
    assert len(tasks) == 1
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        notes = await session.scalars(select(Notification).where(Notification.user_id == tenant.users["staff"]))
        assert [n.title for n in notes] == ["New task: Store visit"]
        audits = await session.scalars(select(AuditEvent.action).where(AuditEvent.target_id == str(tasks[0].id)))
        assert audits.all() == ["task.generate"]


async def test_a_generated_task_goes_to_the_template_role_and_a_holder_takes_it(
    client: Client, tenant: TenantKit, runtime: Runtime
) -> None:
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        staff_role = await session.scalar(select(Role.id).where(Role.name == "staff"))
    await template_at_paris_store(client, tenant, assignee_role_id=str(staff_role))
    await run_recurring(runtime, tenant, datetime(2027, 3, 19, 12, tzinfo=UTC))
    (task,) = await generated(runtime, tenant)
    staff = await tenant.headers(client, "staff")
    mine = (await client.get("/api/v1/tasks/mine", headers=staff)).json()
    assert [i["id"] for i in mine["items"]] == [str(task.id)]
    moved = await client.post(f"/api/v1/tasks/{task.id}/status", json={"status": "in_progress"}, headers=staff)
    assert moved.status_code == 200, moved.text
    assert moved.json()["assignee_id"] == str(tenant.users["staff"])


async def test_a_workplace_template_notifies_its_staff(client: Client, tenant: TenantKit, runtime: Runtime) -> None:
    admin = await tenant.headers(client)
    workplace = await make_workplace(client, admin)
    await assign(client, admin, workplace["id"], tenant.users["staff"])
    await make_template(client, admin, workplace_id=workplace["id"])
    await run_recurring(runtime, tenant, datetime(2027, 3, 19, 12, tzinfo=UTC))
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        told = await session.scalars(select(Notification.user_id).where(Notification.category == "task"))
        assert told.all() == [tenant.users["staff"]]


async def test_a_stopped_template_creates_no_more_tasks(client: Client, tenant: TenantKit, runtime: Runtime) -> None:
    admin = await tenant.headers(client)
    template = await template_at_paris_store(client, tenant)
    stopped = await client.patch(f"/api/v1/task-templates/{template['id']}", json={"active": False}, headers=admin)
    assert stopped.status_code == 200, stopped.text
    await run_recurring(runtime, tenant, datetime(2027, 3, 19, 12, tzinfo=UTC))
    assert await generated(runtime, tenant) == []


async def test_templates_are_listed(client: Client, tenant: TenantKit) -> None:
    admin = await tenant.headers(client)
    made = await make_template(
        client, admin, timezone="America/New_York", frequency="monthly", weekdays=[], month_day=31
    )
    listed = (await client.get("/api/v1/task-templates", headers=await tenant.headers(client, "staff"))).json()
    assert [(i["id"], i["due_time"], i["month_day"]) for i in listed["items"]] == [(made["id"], "09:00", 31)]
