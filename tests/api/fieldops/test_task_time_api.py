"""Time tracking on tasks: one running timer per person, stopping it, manual entries, and totals."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tests.api.fieldops.fieldkit import Client
from tests.api.identity.arrange import Headers, refusal, signed_in_with
from tests.kit import TenantKit


async def staff_task(client: Client, tenant: TenantKit, title: str = "Count stock") -> str:
    response = await client.post(
        "/api/v1/tasks",
        json={"title": title, "assignee_id": str(tenant.users["staff"])},
        headers=await tenant.headers(client),
    )
    assert response.status_code == 201, response.text
    task_id: str = response.json()["id"]
    return task_id


async def manual(client: Client, headers: Headers, task_id: str, start: datetime, end: datetime, **extra: Any) -> Any:
    body = {"started_at": start.isoformat(), "ended_at": end.isoformat()} | extra
    return await client.post(f"/api/v1/tasks/{task_id}/time-entries", json=body, headers=headers)


async def test_start_then_stop_a_timer(client: Client, tenant: TenantKit) -> None:
    task = await staff_task(client, tenant)
    staff = await tenant.headers(client, "staff")
    started = await client.post(f"/api/v1/tasks/{task}/timer", headers=staff)
    assert started.status_code == 201, started.text
    assert started.json().get("ended_at") is None
    stopped = await client.post("/api/v1/tasks/timer/stop", headers=staff)
    assert stopped.status_code == 200, stopped.text
    assert stopped.json()["id"] == started.json()["id"]
    assert stopped.json()["seconds"] >= 0


async def test_one_running_timer_per_person_across_tasks(client: Client, tenant: TenantKit) -> None:
    first = await staff_task(client, tenant, "First")
    second = await staff_task(client, tenant, "Second")
    staff = await tenant.headers(client, "staff")
    await client.post(f"/api/v1/tasks/{first}/timer", headers=staff)
    again = await client.post(f"/api/v1/tasks/{second}/timer", headers=staff)
    assert refusal(again) == (409, "timer_running")
    assert again.json()["error"]["details"]["task_id"] == first


async def test_stopping_without_a_running_timer_is_refused(client: Client, tenant: TenantKit) -> None:
    response = await client.post("/api/v1/tasks/timer/stop", headers=await tenant.headers(client, "staff"))
    assert refusal(response) == (409, "no_timer_running")


async def test_a_timer_on_someone_elses_task_is_refused(client: Client, tenant: TenantKit) -> None:
    task = await staff_task(client, tenant)
    worker = await signed_in_with(client, tenant, ["tasks:read", "tasks:work"])
    assert refusal(await client.post(f"/api/v1/tasks/{task}/timer", headers=worker)) == (403, "not_your_task")


async def test_manual_entries_add_up_per_person(client: Client, tenant: TenantKit) -> None:
    task = await staff_task(client, tenant)
    staff = await tenant.headers(client, "staff")
    admin = await tenant.headers(client)
    now = datetime.now(UTC).replace(microsecond=0)
    assert (await manual(client, staff, task, now - timedelta(hours=3), now - timedelta(hours=2))).status_code == 201
    assert (await manual(client, staff, task, now - timedelta(minutes=30), now)).status_code == 201
    assert (await manual(client, admin, task, now - timedelta(hours=1), now - timedelta(minutes=45))).status_code == 201
    totals = await client.get(f"/api/v1/tasks/{task}/time", headers=admin)
    assert totals.status_code == 200, totals.text
    per_user = {u["user_id"]: u["seconds"] for u in totals.json()["per_user"]}
    assert per_user == {str(tenant.users["staff"]): 5400, str(tenant.users["admin"]): 900}
    assert totals.json()["total_seconds"] == 6300


async def test_a_manual_entry_ending_before_it_starts_is_refused(client: Client, tenant: TenantKit) -> None:
    task = await staff_task(client, tenant)
    now = datetime.now(UTC)
    response = await manual(client, await tenant.headers(client, "staff"), task, now, now - timedelta(hours=1))
    assert refusal(response) == (422, "invalid_interval")


async def test_a_manual_entry_longer_than_a_day_is_refused(client: Client, tenant: TenantKit) -> None:
    task = await staff_task(client, tenant)
    now = datetime.now(UTC)
    response = await manual(client, await tenant.headers(client, "staff"), task, now - timedelta(hours=25), now)
    assert refusal(response) == (422, "invalid_interval")


async def test_a_naive_manual_entry_is_refused(client: Client, tenant: TenantKit) -> None:
    task = await staff_task(client, tenant)
    body = {"started_at": "2026-11-20T08:00:00", "ended_at": "2026-11-20T09:00:00"}
    response = await client.post(
        f"/api/v1/tasks/{task}/time-entries", json=body, headers=await tenant.headers(client, "staff")
    )
    assert refusal(response) == (422, "naive_datetime")


async def test_a_manual_entry_in_the_future_is_refused(client: Client, tenant: TenantKit) -> None:
    task = await staff_task(client, tenant)
    now = datetime.now(UTC)
    response = await manual(client, await tenant.headers(client, "staff"), task, now, now + timedelta(hours=1))
    assert refusal(response) == (422, "in_future")
