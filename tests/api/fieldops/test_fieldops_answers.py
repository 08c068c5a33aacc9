"""What the benchmark's hot paths answer now that they read plain rows in fewer statements: a page of one's
tasks past the end, a status change's answer (checklist and dependencies, ``updated_at`` when nothing
changes), a second timer naming the running one, a clock-out taking the tenant's flag policy, and the board's
order within each list."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tests.api.fieldops.fieldkit import PARIS, Client, assign, make_workplace, north_of
from tests.api.fieldops.test_attendance_api import clock_in, clock_out
from tests.api.fieldops.test_tasks_api import make_task
from tests.api.identity.arrange import refusal
from tests.kit import TenantKit


async def test_a_page_of_my_tasks_past_the_end_still_reports_the_total(client: Client, tenant: TenantKit) -> None:
    admin = await tenant.headers(client)
    for n in range(3):
        await make_task(client, admin, title=f"T{n}", assignee_id=str(tenant.users["staff"]))
    page = await client.get(
        "/api/v1/tasks/mine", params={"limit": 2, "offset": 10}, headers=await tenant.headers(client, "staff")
    )
    assert (page.json()["items"], page.json()["total"]) == ([], 3)


async def test_my_open_tasks_leave_out_done_and_cancelled_ones(client: Client, tenant: TenantKit) -> None:
    admin = await tenant.headers(client)
    staff = await tenant.headers(client, "staff")
    made = {
        status: await make_task(client, admin, title=status, assignee_id=str(tenant.users["staff"]))
        for status in ("todo", "in_progress", "done", "cancelled")
    }
    for status in ("in_progress", "done", "cancelled"):
        moved = await client.post(f"/api/v1/tasks/{made[status]['id']}/status", json={"status": status}, headers=admin)
        assert moved.status_code == 200, moved.text
    still_open = (await client.get("/api/v1/tasks/mine", params={"open": "true"}, headers=staff)).json()
    finished = (await client.get("/api/v1/tasks/mine", params={"open": "false"}, headers=staff)).json()
    assert sorted(t["title"] for t in still_open["items"]) == ["in_progress", "todo"]
    assert sorted(t["title"] for t in finished["items"]) == ["cancelled", "done"]
    assert (still_open["total"], finished["total"]) == (2, 2)


async def test_a_status_change_answers_with_the_tasks_checklist_and_dependencies(
    client: Client, tenant: TenantKit
) -> None:
    admin = await tenant.headers(client)
    first = await make_task(client, admin, title="First")
    created = await make_task(
        client,
        admin,
        assignee_id=str(tenant.users["staff"]),
        checklist=["Count", "Photograph"],
        depends_on=[first["id"]],
    )
    staff = await tenant.headers(client, "staff")
    item = created["checklist"][0]["id"]
    ticked = await client.patch(f"/api/v1/tasks/{created['id']}/checklist/{item}", json={"done": True}, headers=staff)
    assert ticked.status_code == 200, ticked.text
    moved = await client.post(f"/api/v1/tasks/{created['id']}/status", json={"status": "in_progress"}, headers=staff)
    assert moved.status_code == 200, moved.text
    read = await client.get(f"/api/v1/tasks/{created['id']}", headers=staff)
    assert moved.json() == read.json()
    assert [line["text"] for line in moved.json()["checklist"]] == ["Count", "Photograph"]
    assert moved.json()["depends_on"] == [first["id"]]


async def test_moving_a_task_to_the_status_it_has_keeps_its_update_time(client: Client, tenant: TenantKit) -> None:
    admin = await tenant.headers(client)
    created = await make_task(client, admin)
    moved = await client.post(f"/api/v1/tasks/{created['id']}/status", json={"status": "todo"}, headers=admin)
    assert moved.status_code == 200, moved.text
    assert moved.json()["updated_at"] == created["updated_at"]


async def test_a_second_timer_is_refused_naming_the_running_entry(client: Client, tenant: TenantKit) -> None:
    admin = await tenant.headers(client)
    first = await make_task(client, admin, title="First", assignee_id=str(tenant.users["staff"]))
    second = await make_task(client, admin, title="Second", assignee_id=str(tenant.users["staff"]))
    staff = await tenant.headers(client, "staff")
    running = await client.post(f"/api/v1/tasks/{first['id']}/timer", headers=staff)
    assert running.status_code == 201, running.text
    again = await client.post(f"/api/v1/tasks/{second['id']}/timer", headers=staff)
    assert refusal(again) == (409, "timer_running")
    assert again.json()["error"]["details"]["entry_id"] == running.json()["id"]


async def test_a_stopped_timer_can_be_started_again(client: Client, tenant: TenantKit) -> None:
    created = await make_task(client, await tenant.headers(client), assignee_id=str(tenant.users["staff"]))
    staff = await tenant.headers(client, "staff")
    first = await client.post(f"/api/v1/tasks/{created['id']}/timer", headers=staff)
    stopped = await client.post("/api/v1/tasks/timer/stop", headers=staff)
    again = await client.post(f"/api/v1/tasks/{created['id']}/timer", headers=staff)
    assert (first.status_code, stopped.status_code, again.status_code) == (201, 200, 201)
    assert again.json()["id"] != first.json()["id"]


async def test_a_clock_out_outside_the_geofence_is_flagged_under_a_flag_policy(
    client: Client, tenant: TenantKit
) -> None:
    admin = await tenant.headers(client)
    workplace = await make_workplace(client, admin)
    await assign(client, admin, workplace["id"], tenant.users["staff"])
    policy = await client.put("/api/v1/attendance/policy", json={"geofence": "flag"}, headers=admin)
    assert policy.status_code == 200, policy.text
    staff = await tenant.headers(client, "staff")
    assert (await clock_in(client, staff, workplace["id"], PARIS)).status_code == 201
    out = await clock_out(client, staff, north_of(PARIS, 5_000))
    assert out.status_code == 200, out.text
    assert out.json()["clock_out_flagged"] is True


async def report(client: Client, headers: Any, workplace_id: str, severity: str, hours_ago: int) -> str:
    occurred = (datetime.now(UTC) - timedelta(hours=hours_ago)).isoformat()
    body = {"type": "spill", "severity": severity, "description": "x", "workplace_id": workplace_id}
    response = await client.post("/api/v1/incidents", json=body | {"occurred_at": occurred}, headers=headers)
    assert response.status_code == 201, response.text
    found: str = response.json()["id"]
    return found


async def test_the_board_lists_incidents_most_severe_then_latest_first(client: Client, tenant: TenantKit) -> None:
    admin = await tenant.headers(client)
    workplace = await make_workplace(client, admin)
    await assign(client, admin, workplace["id"], tenant.users["staff"])
    staff = await tenant.headers(client, "staff")
    low = await report(client, staff, workplace["id"], "low", 1)
    older_high = await report(client, staff, workplace["id"], "high", 3)
    newer_high = await report(client, staff, workplace["id"], "high", 2)
    read = await client.get("/api/v1/board", headers=await tenant.headers(client, "supervisor"))
    (mine,) = [w for w in read.json()["workplaces"] if w["workplace_id"] == workplace["id"]]
    assert [i["incident_id"] for i in mine["open_incidents"]] == [newer_high, older_high, low]


async def test_the_board_lists_overdue_tasks_oldest_due_first(client: Client, tenant: TenantKit) -> None:
    admin = await tenant.headers(client)
    workplace = await make_workplace(client, admin)
    due = [(datetime.now(UTC) - timedelta(hours=h)).isoformat() for h in (1, 5, 3)]
    made = [
        await make_task(client, admin, title=f"T{n}", workplace_id=workplace["id"], due_at=d) for n, d in enumerate(due)
    ]
    read = await client.get("/api/v1/board", headers=await tenant.headers(client, "supervisor"))
    (mine,) = [w for w in read.json()["workplaces"] if w["workplace_id"] == workplace["id"]]
    assert [t["task_id"] for t in mine["overdue_tasks"]] == [made[1]["id"], made[2]["id"], made[0]["id"]]


async def test_the_board_lists_a_workplace_with_nobody_in_and_nothing_open(client: Client, tenant: TenantKit) -> None:
    workplace = await make_workplace(client, await tenant.headers(client))
    read = await client.get("/api/v1/board", headers=await tenant.headers(client, "supervisor"))
    (mine,) = [w for w in read.json()["workplaces"] if w["workplace_id"] == workplace["id"]]
    assert (mine["clocked_in"], mine["open_incidents"], mine["overdue_tasks"], mine["late"]) == ([], [], [], [])
