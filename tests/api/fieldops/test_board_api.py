"""The supervisor's live board: who is in, overdue tasks and open incidents per workplace, its filters and who may
read it; and, over a real socket on another node, clock-ins, task changes and the worker's overdue tasks arriving
live on the board topic."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection

from api.board.realtime import publish_live_from_worker
from api.runtime import Runtime
from api.settings import Settings
from api.tasks.jobs import DEADLINES_JOB, task_job_handlers
from tests.api.fieldops.fieldkit import PARIS, Client, assign, make_workplace, periodic_job, refused_without
from tests.api.fieldops.test_attendance_api import clock_in, clock_out
from tests.api.fieldops.test_tasks_api import make_task
from tests.api.identity.arrange import Headers, refusal
from tests.kit import TenantKit
from tests.nodes import AppNode, frame_where, next_frame

PAST = (datetime.now(UTC) - timedelta(hours=2)).isoformat()


@pytest.fixture(scope="module")
async def node(settings: Settings) -> AsyncIterator[AppNode]:
    started = AppNode(settings)
    try:
        await started.ready()
        yield started
    finally:
        started.stop()


async def store_with_staff(client: Client, tenant: TenantKit, **fields: Any) -> tuple[dict[str, Any], Headers]:
    admin = await tenant.headers(client)
    workplace = await make_workplace(client, admin, **fields)
    await assign(client, admin, workplace["id"], tenant.users["staff"])
    return workplace, await tenant.headers(client, "staff")


async def board(client: Client, tenant: TenantKit, role: str = "supervisor", **query: str) -> Any:
    return await client.get("/api/v1/board", params=query, headers=await tenant.headers(client, role))


def of(read: Any, workplace: dict[str, Any]) -> dict[str, Any]:
    (found,) = [w for w in read.json()["workplaces"] if w["workplace_id"] == workplace["id"]]
    return found  # type: ignore[no-any-return]


async def board_socket(node: AppNode, client: Client, tenant: TenantKit) -> ClientConnection:
    """A supervisor's socket, which has the board topic from its first frame."""
    ws = await node.connect(headers=await tenant.headers(client, "supervisor"))
    hello = await next_frame(ws, "hello")
    assert f"t:{tenant.id}:board" in hello["topics"]
    return ws


async def heard(ws: ClientConnection, tenant: TenantKit, kind: str) -> dict[str, Any]:
    topic = f"t:{tenant.id}:board"
    frame = await frame_where(ws, lambda f: f["type"] == "event" and f["topic"] == topic and f["event"]["type"] == kind)
    event: dict[str, Any] = frame["event"]
    return event


# -- reading -------------------------------------------------------------------------------------


async def test_the_board_shows_who_is_clocked_in_where(client: Client, tenant: TenantKit) -> None:
    workplace, staff = await store_with_staff(client, tenant)
    assert (await clock_in(client, staff, workplace["id"], PARIS)).status_code == 201
    read = await board(client, tenant)
    assert read.status_code == 200, read.text
    (person,) = of(read, workplace)["clocked_in"]
    assert (person["user_id"], person["name"]) == (str(tenant.users["staff"]), "Staff")
    assert (await clock_out(client, staff, PARIS)).status_code == 200
    assert of(await board(client, tenant), workplace)["clocked_in"] == []


async def test_the_board_lists_overdue_tasks_but_not_done_or_future_ones(client: Client, tenant: TenantKit) -> None:
    admin = await tenant.headers(client)
    workplace = await make_workplace(client, admin)
    late = await make_task(client, admin, title="Late", workplace_id=workplace["id"], due_at=PAST)
    done = await make_task(client, admin, title="Done", workplace_id=workplace["id"], due_at=PAST)
    await client.post(f"/api/v1/tasks/{done['id']}/status", json={"status": "done"}, headers=admin)
    await make_task(client, admin, title="Later", workplace_id=workplace["id"], due_at="2099-01-01T00:00:00+00:00")
    overdue = of(await board(client, tenant), workplace)["overdue_tasks"]
    assert [t["task_id"] for t in overdue] == [late["id"]]


async def test_the_board_lists_open_incidents(client: Client, tenant: TenantKit) -> None:
    workplace, staff = await store_with_staff(client, tenant)
    reported = await client.post(
        "/api/v1/incidents",
        json={
            "type": "spill",
            "severity": "low",
            "description": "Milk on the floor",
            "workplace_id": workplace["id"],
            "occurred_at": PAST,
        },
        headers=staff,
    )
    assert reported.status_code == 201, reported.text
    incidents = of(await board(client, tenant), workplace)["open_incidents"]
    assert [i["incident_id"] for i in incidents] == [reported.json()["id"]]


async def test_the_board_filters_by_workplace(client: Client, tenant: TenantKit) -> None:
    admin = await tenant.headers(client)
    one = await make_workplace(client, admin)
    await make_workplace(client, admin)
    read = await board(client, tenant, workplace_id=one["id"])
    assert [w["workplace_id"] for w in read.json()["workplaces"]] == [one["id"]]


async def test_the_board_filters_by_department(client: Client, tenant: TenantKit) -> None:
    admin = await tenant.headers(client)
    department = await client.post("/api/v1/departments", json={"name": "North"}, headers=admin)
    assert department.status_code == 201, department.text
    north = await make_workplace(client, admin, department_id=department.json()["id"])
    await make_workplace(client, admin)
    read = await board(client, tenant, department_id=department.json()["id"])
    assert [w["workplace_id"] for w in read.json()["workplaces"]] == [north["id"]]


async def test_another_tenants_workplace_is_not_found(
    client: Client, tenant: TenantKit, other_tenant: TenantKit
) -> None:
    theirs = await make_workplace(client, await other_tenant.headers(client))
    assert refusal(await board(client, tenant, workplace_id=theirs["id"])) == (404, "not_found")


async def test_staff_may_not_read_the_board(client: Client, tenant: TenantKit) -> None:
    assert refusal(await board(client, tenant, "staff")) == (403, "forbidden")


# -- live ----------------------------------------------------------------------------------------


async def test_a_clock_in_reaches_the_supervisors_board_live(node: AppNode, client: Client, tenant: TenantKit) -> None:
    workplace, staff = await store_with_staff(client, tenant)
    async with await board_socket(node, client, tenant) as ws:
        assert (await clock_in(client, staff, workplace["id"], PARIS)).status_code == 201
        event = await heard(ws, tenant, "board.attendance")
        assert (event["workplace_id"], event["user_id"]) == (workplace["id"], str(tenant.users["staff"]))
        assert "clock_out_at" not in event
        assert (await clock_out(client, staff, PARIS)).status_code == 200
        assert (await heard(ws, tenant, "board.attendance"))["clock_out_at"] is not None


async def test_a_task_status_change_reaches_the_board(node: AppNode, client: Client, tenant: TenantKit) -> None:
    admin = await tenant.headers(client)
    task = await make_task(client, admin, due_at=PAST)
    async with await board_socket(node, client, tenant) as ws:
        await client.post(f"/api/v1/tasks/{task['id']}/status", json={"status": "blocked"}, headers=admin)
        event = await heard(ws, tenant, "board.task")
        assert (event["task_id"], event["status"], event["overdue"]) == (task["id"], "blocked", True)


async def test_the_workers_overdue_task_reaches_the_board(
    node: AppNode, client: Client, tenant: TenantKit, runtime: Runtime, settings: Settings
) -> None:
    task = await make_task(client, await tenant.headers(client), due_at=PAST)
    async with await board_socket(node, client, tenant) as ws:
        stop = await publish_live_from_worker(runtime.db, redis_url=settings.redis_url)
        try:
            handler = task_job_handlers(db=runtime.db)[DEADLINES_JOB]
            await handler(periodic_job(tenant, DEADLINES_JOB, datetime.now(UTC)))
        finally:
            await stop()
        event = await heard(ws, tenant, "board.task")
        assert (event["task_id"], event["change"], event["overdue"]) == (task["id"], "overdue", True)


async def test_staff_sockets_cannot_listen_to_the_board(node: AppNode, client: Client, tenant: TenantKit) -> None:
    async with await node.connect(headers=await tenant.headers(client, "staff")) as ws:
        hello = await next_frame(ws, "hello")
        topic = f"t:{tenant.id}:board"
        assert topic not in hello["topics"]
        await ws.send(json.dumps({"type": "subscribe", "topic": topic, "ref": "b"}))
        answer = await frame_where(ws, lambda f: f.get("ref") == "b")
        assert (answer["type"], answer["code"]) == ("error", "forbidden")


@pytest.mark.parametrize(
    ("method", "path", "permission"),
    [
        ("GET", "/api/v1/board", "board:read"),
        ("GET", "/api/v1/task-templates", "tasks:read"),
        ("GET", "/api/v1/task-templates/{template_id:uuid}", "tasks:read"),
        ("POST", "/api/v1/task-templates", "tasks:write"),
        ("PATCH", "/api/v1/task-templates/{template_id:uuid}", "tasks:write"),
    ],
)
async def test_each_endpoint_refuses_a_caller_lacking_its_permission(
    client: Client, tenant: TenantKit, method: str, path: str, permission: str
) -> None:
    assert await refused_without(client, tenant, {}, method, path, permission) == (403, "forbidden")
