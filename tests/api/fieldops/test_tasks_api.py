"""Tasks: creation and assignment with its notification, validation, another tenant's ids, lists and filters,
status changes, and who may work on a task."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import func, select

from api.runtime import Runtime
from persistence.models import AuditEvent, Notification, Task
from tests.api.fieldops.fieldkit import Client, make_workplace
from tests.api.identity.arrange import Headers, refusal
from tests.kit import TenantKit


async def make_task(client: Client, headers: Headers, **fields: Any) -> dict[str, Any]:
    response = await client.post("/api/v1/tasks", json={"title": "Restock shelf"} | fields, headers=headers)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def task_notifications(runtime: Runtime, tenant: TenantKit, user_id: UUID) -> list[Notification]:
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        rows = await session.scalars(
            select(Notification).where(Notification.user_id == user_id, Notification.category == "task")
        )
        return list(rows.all())


async def task_count(runtime: Runtime, tenant: TenantKit) -> int:
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        return await session.scalar(select(func.count()).select_from(Task)) or 0


async def test_create_a_task_with_checklist_labels_and_due_time(client: Client, tenant: TenantKit) -> None:
    admin = await tenant.headers(client)
    due = "2026-12-01T18:00:00+01:00"
    created = await make_task(
        client,
        admin,
        description="Aisle 4",
        due_at=due,
        priority="high",
        labels=["promo", "aisle-4", "promo"],
        checklist=["Count stock", "Take photo"],
    )
    assert datetime.fromisoformat(created["due_at"]) == datetime.fromisoformat(due)
    assert (created["status"], created["priority"], created["labels"]) == ("todo", "high", ["aisle-4", "promo"])
    assert [(i["position"], i["text"], i["done"]) for i in created["checklist"]] == [
        (0, "Count stock", False),
        (1, "Take photo", False),
    ]


async def test_assigning_a_task_notifies_the_assignee(client: Client, tenant: TenantKit, runtime: Runtime) -> None:
    created = await make_task(client, await tenant.headers(client), assignee_id=str(tenant.users["staff"]))
    notifications = await task_notifications(runtime, tenant, tenant.users["staff"])
    assert [(n.title, n.data) for n in notifications] == [("New task: Restock shelf", {"task_id": created["id"]})]


async def test_reassigning_notifies_the_new_assignee(client: Client, tenant: TenantKit, runtime: Runtime) -> None:
    admin = await tenant.headers(client)
    created = await make_task(client, admin, assignee_id=str(tenant.users["staff"]))
    response = await client.patch(
        f"/api/v1/tasks/{created['id']}", json={"assignee_id": str(tenant.users["moderator"])}, headers=admin
    )
    assert response.status_code == 200, response.text
    assert len(await task_notifications(runtime, tenant, tenant.users["moderator"])) == 1


async def test_a_naive_due_time_is_refused(client: Client, tenant: TenantKit, runtime: Runtime) -> None:
    response = await client.post(
        "/api/v1/tasks", json={"title": "X", "due_at": "2026-12-01T18:00:00"}, headers=await tenant.headers(client)
    )
    assert refusal(response) == (422, "naive_datetime")
    assert await task_count(runtime, tenant) == 0


async def test_an_unknown_status_is_refused(client: Client, tenant: TenantKit) -> None:
    admin = await tenant.headers(client)
    created = await make_task(client, admin)
    response = await client.post(f"/api/v1/tasks/{created['id']}/status", json={"status": "finished"}, headers=admin)
    assert refusal(response) == (400, "invalid_request")


async def test_assigning_another_tenants_user_is_not_found(
    client: Client, tenant: TenantKit, other_tenant: TenantKit, runtime: Runtime
) -> None:
    response = await client.post(
        "/api/v1/tasks",
        json={"title": "X", "assignee_id": str(other_tenant.users["staff"])},
        headers=await tenant.headers(client),
    )
    assert refusal(response) == (404, "not_found")
    assert await task_count(runtime, tenant) == 0


async def test_another_tenants_workplace_is_not_found(
    client: Client, tenant: TenantKit, other_tenant: TenantKit
) -> None:
    theirs = await make_workplace(client, await other_tenant.headers(client))
    response = await client.post(
        "/api/v1/tasks", json={"title": "X", "workplace_id": theirs["id"]}, headers=await tenant.headers(client)
    )
    assert refusal(response) == (404, "not_found")


async def test_another_tenants_task_is_not_found(client: Client, tenant: TenantKit, other_tenant: TenantKit) -> None:
    theirs = await make_task(client, await other_tenant.headers(client))
    admin = await tenant.headers(client)
    assert refusal(await client.get(f"/api/v1/tasks/{theirs['id']}", headers=admin)) == (404, "not_found")
    moved = await client.post(f"/api/v1/tasks/{theirs['id']}/status", json={"status": "done"}, headers=admin)
    assert refusal(moved) == (404, "not_found")
    depending = await make_task(client, admin)
    edge = await client.post(
        f"/api/v1/tasks/{depending['id']}/dependencies", json={"depends_on_id": theirs["id"]}, headers=admin
    )
    assert refusal(edge) == (404, "not_found")


async def test_my_tasks_lists_only_mine_with_filters(client: Client, tenant: TenantKit) -> None:
    admin = await tenant.headers(client)
    staff_id = str(tenant.users["staff"])
    soon = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    later = (datetime.now(UTC) + timedelta(days=3)).isoformat()
    await make_task(client, admin, title="Later", assignee_id=staff_id, due_at=later, labels=["promo"])
    await make_task(client, admin, title="Soon", assignee_id=staff_id, due_at=soon, labels=["promo"])
    await make_task(client, admin, title="Unlabelled", assignee_id=staff_id)
    await make_task(client, admin, title="Someone else's", labels=["promo"])
    staff = await tenant.headers(client, "staff")
    mine = await client.get("/api/v1/tasks/mine", params={"label": "promo"}, headers=staff)
    assert mine.status_code == 200, mine.text
    assert [t["title"] for t in mine.json()["items"]] == ["Soon", "Later"]
    cutoff = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    due_soon = await client.get("/api/v1/tasks/mine", params={"due_before": cutoff}, headers=staff)
    assert [t["title"] for t in due_soon.json()["items"]] == ["Soon"]


async def test_the_task_list_filters_by_each_field_and_searches_titles_literally(
    client: Client, tenant: TenantKit
) -> None:
    admin = await tenant.headers(client)
    store = await make_workplace(client, admin)
    staff_id = str(tenant.users["staff"])
    await make_task(client, admin, title="Restock 50% aisle", assignee_id=staff_id, priority="high")
    await make_task(client, admin, title="Restock 50 aisle", workplace_id=store["id"])
    await make_task(client, admin, title="Count shelves", assignee_id=staff_id, workplace_id=store["id"])

    async def titles(**params: str) -> list[str]:
        answer = await client.get("/api/v1/tasks", params=params, headers=admin)
        assert answer.status_code == 200, answer.text
        return sorted(t["title"] for t in answer.json()["items"])

    assert await titles(q="50%") == ["Restock 50% aisle"]
    assert await titles(q="restock") == ["Restock 50 aisle", "Restock 50% aisle"]
    assert await titles(assignee_id=staff_id) == ["Count shelves", "Restock 50% aisle"]
    assert await titles(workplace_id=store["id"]) == ["Count shelves", "Restock 50 aisle"]
    assert await titles(priority="high") == ["Restock 50% aisle"]
    assert await titles(status="todo", workplace_id=store["id"], q="count") == ["Count shelves"]
    assert await titles(status="done") == []


async def test_my_tasks_are_paginated(client: Client, tenant: TenantKit) -> None:
    admin = await tenant.headers(client)
    for n in range(3):
        await make_task(client, admin, title=f"T{n}", assignee_id=str(tenant.users["staff"]))
    page = await client.get(
        "/api/v1/tasks/mine", params={"limit": 2, "offset": 2}, headers=await tenant.headers(client, "staff")
    )
    assert (len(page.json()["items"]), page.json()["total"]) == (1, 3)


async def test_the_assignee_moves_their_task_and_it_is_audited(
    client: Client, tenant: TenantKit, runtime: Runtime
) -> None:
    created = await make_task(client, await tenant.headers(client), assignee_id=str(tenant.users["staff"]))
    staff = await tenant.headers(client, "staff")
    response = await client.post(f"/api/v1/tasks/{created['id']}/status", json={"status": "in_progress"}, headers=staff)
    assert response.status_code == 200, response.text
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        details = await session.scalar(select(AuditEvent.details).where(AuditEvent.action == "task.status"))
    assert details == {"from": "todo", "to": "in_progress"}


async def test_done_sets_the_completion_time(client: Client, tenant: TenantKit) -> None:
    admin = await tenant.headers(client)
    created = await make_task(client, admin)
    response = await client.post(f"/api/v1/tasks/{created['id']}/status", json={"status": "done"}, headers=admin)
    assert response.json()["completed_at"] is not None


async def test_staff_cannot_move_someone_elses_task(client: Client, tenant: TenantKit) -> None:
    created = await make_task(client, await tenant.headers(client), assignee_id=str(tenant.users["supervisor"]))
    staff = await tenant.headers(client, "staff")
    response = await client.post(f"/api/v1/tasks/{created['id']}/status", json={"status": "done"}, headers=staff)
    assert refusal(response) == (403, "not_your_task")


async def test_staff_cannot_create_tasks(client: Client, tenant: TenantKit) -> None:
    response = await client.post("/api/v1/tasks", json={"title": "X"}, headers=await tenant.headers(client, "staff"))
    assert refusal(response) == (403, "forbidden")


async def test_the_assignee_ticks_the_checklist(client: Client, tenant: TenantKit) -> None:
    created = await make_task(
        client, await tenant.headers(client), assignee_id=str(tenant.users["staff"]), checklist=["Count"]
    )
    item = created["checklist"][0]["id"]
    staff = await tenant.headers(client, "staff")
    response = await client.patch(f"/api/v1/tasks/{created['id']}/checklist/{item}", json={"done": True}, headers=staff)
    assert response.status_code == 200, response.text
    assert (response.json()["done"], response.json()["done_by"]) == (True, str(tenant.users["staff"]))


async def test_a_checklist_line_is_appended(client: Client, tenant: TenantKit) -> None:
    admin = await tenant.headers(client)
    created = await make_task(client, admin, checklist=["First"])
    added = await client.post(f"/api/v1/tasks/{created['id']}/checklist", json={"text": "Second"}, headers=admin)
    assert added.status_code == 201, added.text
    got = await client.get(f"/api/v1/tasks/{created['id']}", headers=admin)
    assert [i["text"] for i in got.json()["checklist"]] == ["First", "Second"]


async def test_comments_are_listed_oldest_first(client: Client, tenant: TenantKit) -> None:
    created = await make_task(client, await tenant.headers(client))
    staff = await tenant.headers(client, "staff")
    for body in ("first", "second"):
        response = await client.post(f"/api/v1/tasks/{created['id']}/comments", json={"body": body}, headers=staff)
        assert response.status_code == 201, response.text
    listed = await client.get(f"/api/v1/tasks/{created['id']}/comments", headers=staff)
    assert [c["body"] for c in listed.json()["items"]] == ["first", "second"]
    assert listed.json()["items"][0]["author_id"] == str(tenant.users["staff"])


async def test_a_naive_due_before_filter_is_refused(client: Client, tenant: TenantKit) -> None:
    response = await client.get(
        "/api/v1/tasks/mine",
        params={"due_before": "2026-12-01T00:00:00"},
        headers=await tenant.headers(client, "staff"),
    )
    assert refusal(response) == (422, "naive_datetime")
