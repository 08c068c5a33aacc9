"""A task's page updates live for everyone looking at it: a real socket on a separate node subscribes to the
task's topic and hears each change made over HTTP on another."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection

from api.settings import Settings
from tests.api.fieldops.fieldkit import Client, upload
from tests.api.fieldops.test_tasks_api import make_task
from tests.channels.files import png
from tests.kit import TenantKit
from tests.nodes import AppNode, frame_where, next_frame


@pytest.fixture(scope="module")
async def node(settings: Settings) -> AsyncIterator[AppNode]:
    started = AppNode(settings)
    try:
        await started.ready()
        yield started
    finally:
        started.stop()


async def watching(node: AppNode, client: Client, tenant: TenantKit, role: str, topic: str) -> ClientConnection:
    """A socket of ``role`` subscribed to ``topic`` (its ``subscribed`` answer read)."""
    ws = await node.connect(headers=await tenant.headers(client, role))
    await next_frame(ws, "hello")
    await ws.send(json.dumps({"type": "subscribe", "topic": topic, "ref": "s1"}))
    answer = await frame_where(ws, lambda f: f.get("ref") == "s1")
    assert answer["type"] == "subscribed", answer
    return ws


async def change_heard(ws: ClientConnection, topic: str, change: str) -> dict[str, Any]:
    frame = await frame_where(
        ws, lambda f: f["type"] == "event" and f["topic"] == topic and f["event"]["change"] == change
    )
    event: dict[str, Any] = frame["event"]
    return event


async def test_status_comment_checklist_and_time_reach_the_tasks_page(
    node: AppNode, client: Client, tenant: TenantKit
) -> None:
    admin = await tenant.headers(client)
    task = await make_task(client, admin, assignee_id=str(tenant.users["staff"]), checklist=["Count"])
    topic = f"t:{tenant.id}:task:{task['id']}"
    async with await watching(node, client, tenant, "supervisor", topic) as ws:
        staff = await tenant.headers(client, "staff")
        await client.post(f"/api/v1/tasks/{task['id']}/status", json={"status": "in_progress"}, headers=staff)
        status = await change_heard(ws, topic, "status")
        assert (status["type"], status["data"]["status"], status["by"]) == (
            "task.changed",
            "in_progress",
            str(tenant.users["staff"]),
        )
        await client.post(f"/api/v1/tasks/{task['id']}/comments", json={"body": "On it"}, headers=staff)
        assert (await change_heard(ws, topic, "comment"))["data"]["body"] == "On it"
        item = task["checklist"][0]["id"]
        await client.patch(f"/api/v1/tasks/{task['id']}/checklist/{item}", json={"done": True}, headers=staff)
        assert (await change_heard(ws, topic, "checklist"))["data"]["done"] is True
        await client.post(f"/api/v1/tasks/{task['id']}/timer", headers=staff)
        assert (await change_heard(ws, topic, "time"))["data"]["user_id"] == str(tenant.users["staff"])
        await client.patch(
            f"/api/v1/tasks/{task['id']}", json={"assignee_id": str(tenant.users["supervisor"])}, headers=admin
        )
        assigned = await change_heard(ws, topic, "assigned")
        assert assigned["data"]["fields"] == ["assignee_id"]


async def test_a_file_added_and_removed_reaches_the_tasks_page(
    node: AppNode, client: Client, tenant: TenantKit
) -> None:
    task = await make_task(client, await tenant.headers(client), assignee_id=str(tenant.users["staff"]))
    topic = f"t:{tenant.id}:task:{task['id']}"
    async with await watching(node, client, tenant, "supervisor", topic) as ws:
        staff = await tenant.headers(client, "staff")
        file_id = await upload(client, staff, png(9, 9), "shelf.png", "image/png")
        await client.post(f"/api/v1/tasks/{task['id']}/files", json={"file_id": file_id}, headers=staff)
        assert (await change_heard(ws, topic, "file"))["data"] == {"added": file_id}
        await client.delete(f"/api/v1/tasks/{task['id']}/files/{file_id}", headers=staff)
        assert (await change_heard(ws, topic, "file"))["data"] == {"removed": file_id}


async def test_a_refused_change_publishes_nothing(node: AppNode, client: Client, tenant: TenantKit) -> None:
    admin = await tenant.headers(client)
    task = await make_task(client, admin, requires_photo=True)
    topic = f"t:{tenant.id}:task:{task['id']}"
    async with await watching(node, client, tenant, "admin", topic) as ws:
        refused = await client.post(f"/api/v1/tasks/{task['id']}/status", json={"status": "done"}, headers=admin)
        assert refused.status_code == 409
        await client.post(f"/api/v1/tasks/{task['id']}/comments", json={"body": "after"}, headers=admin)
        # The first event heard is the comment: the refused status change sent none.
        frame = await frame_where(ws, lambda f: f["type"] == "event" and f["topic"] == topic)
        assert frame["event"]["change"] == "comment"


async def test_another_tenants_task_topic_is_not_found(
    node: AppNode, client: Client, tenant: TenantKit, other_tenant: TenantKit
) -> None:
    theirs = await make_task(client, await other_tenant.headers(client))
    async with await node.connect(headers=await tenant.headers(client, "admin")) as ws:
        await next_frame(ws, "hello")
        # Their task under our tenant's prefix: row-level security hides it.
        await ws.send(json.dumps({"type": "subscribe", "topic": f"t:{tenant.id}:task:{theirs['id']}", "ref": "x"}))
        answer = await frame_where(ws, lambda f: f.get("ref") == "x")
        assert (answer["type"], answer["code"]) == ("error", "not_found")


async def test_a_task_topic_keeps_no_history(node: AppNode, client: Client, tenant: TenantKit) -> None:
    task = await make_task(client, await tenant.headers(client))
    async with await node.connect(headers=await tenant.headers(client, "staff")) as ws:
        await next_frame(ws, "hello")
        topic = f"t:{tenant.id}:task:{task['id']}"
        await ws.send(json.dumps({"type": "subscribe", "topic": topic, "since": 3, "ref": "r"}))
        answer = await frame_where(ws, lambda f: f.get("ref") == "r")
        assert (answer["type"], answer["resume"]) == ("subscribed", "too_far")
