"""Task dependencies and proof: a graph without cycles, done only after dependencies, and the required photo."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import func, select

from api.runtime import Runtime
from persistence.models import TaskDependency
from tests.api.fieldops.fieldkit import Client
from tests.api.identity.arrange import Headers, refusal
from tests.channels.files import png
from tests.kit import TenantKit

PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


async def make_task(client: Client, headers: Headers, **fields: Any) -> str:
    response = await client.post("/api/v1/tasks", json={"title": "Step"} | fields, headers=headers)
    assert response.status_code == 201, response.text
    task_id: str = response.json()["id"]
    return task_id


async def depend(client: Client, headers: Headers, task_id: str, depends_on_id: str) -> Any:
    return await client.post(
        f"/api/v1/tasks/{task_id}/dependencies", json={"depends_on_id": depends_on_id}, headers=headers
    )


async def set_status(client: Client, headers: Headers, task_id: str, status: str, **extra: Any) -> Any:
    return await client.post(f"/api/v1/tasks/{task_id}/status", json={"status": status} | extra, headers=headers)


async def upload(client: Client, headers: Headers, data: bytes, name: str, content_type: str) -> str:
    response = await client.post("/api/v1/files", files={"file": (name, data, content_type)}, headers=headers)
    assert response.status_code == 201, response.text
    file_id: str = response.json()["id"]
    return file_id


async def edge_count(runtime: Runtime, tenant: TenantKit) -> int:
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        return await session.scalar(select(func.count()).select_from(TaskDependency)) or 0


async def test_dependencies_are_listed_on_the_task(client: Client, tenant: TenantKit) -> None:
    admin = await tenant.headers(client)
    first = await make_task(client, admin)
    second = await make_task(client, admin, depends_on=[first])
    got = await client.get(f"/api/v1/tasks/{second}", headers=admin)
    assert got.json()["depends_on"] == [first]


async def test_a_task_cannot_depend_on_itself(client: Client, tenant: TenantKit) -> None:
    admin = await tenant.headers(client)
    task = await make_task(client, admin)
    assert refusal(await depend(client, admin, task, task)) == (422, "dependency_cycle")


async def test_a_longer_cycle_is_refused_and_nothing_is_written(
    client: Client, tenant: TenantKit, runtime: Runtime
) -> None:
    admin = await tenant.headers(client)
    a = await make_task(client, admin)
    b = await make_task(client, admin, depends_on=[a])
    c = await make_task(client, admin, depends_on=[b])
    assert refusal(await depend(client, admin, a, c)) == (422, "dependency_cycle")
    assert await edge_count(runtime, tenant) == 2


async def test_a_diamond_is_not_a_cycle(client: Client, tenant: TenantKit) -> None:
    admin = await tenant.headers(client)
    root = await make_task(client, admin)
    left = await make_task(client, admin, depends_on=[root])
    right = await make_task(client, admin, depends_on=[root])
    top = await make_task(client, admin, depends_on=[left])
    response = await depend(client, admin, top, right)
    assert response.status_code == 200, response.text
    assert sorted(response.json()["depends_on"]) == sorted([left, right])


async def test_done_waits_for_dependencies(client: Client, tenant: TenantKit) -> None:
    admin = await tenant.headers(client)
    first = await make_task(client, admin)
    second = await make_task(client, admin, depends_on=[first])
    refused = await set_status(client, admin, second, "done")
    assert refusal(refused) == (409, "blocked_by_dependencies")
    assert refused.json()["error"]["details"]["task_ids"] == [first]
    await set_status(client, admin, first, "done")
    assert (await set_status(client, admin, second, "done")).status_code == 200


async def test_a_removed_dependency_no_longer_blocks(client: Client, tenant: TenantKit) -> None:
    admin = await tenant.headers(client)
    first = await make_task(client, admin)
    second = await make_task(client, admin, depends_on=[first])
    removed = await client.delete(f"/api/v1/tasks/{second}/dependencies/{first}", headers=admin)
    assert removed.status_code == 200, removed.text
    assert (await set_status(client, admin, second, "done")).status_code == 200


async def test_done_without_the_required_photo_is_refused(client: Client, tenant: TenantKit) -> None:
    admin = await tenant.headers(client)
    task = await make_task(client, admin, requires_photo=True)
    refused = await set_status(client, admin, task, "done")
    assert refusal(refused) == (409, "photo_required")
    got = await client.get(f"/api/v1/tasks/{task}", headers=admin)
    assert got.json()["status"] == "todo"


async def test_done_with_an_uploaded_photo(client: Client, tenant: TenantKit) -> None:
    staff = await tenant.headers(client, "staff")
    task = await make_task(
        client, await tenant.headers(client), requires_photo=True, assignee_id=str(tenant.users["staff"])
    )
    photo = await upload(client, staff, png(40, 30), "shelf.png", "image/png")
    response = await set_status(client, staff, task, "done", photo_attachment_id=photo)
    assert response.status_code == 200, response.text
    assert response.json()["photo_attachment_id"] == photo


async def test_a_document_is_not_a_photo(client: Client, tenant: TenantKit) -> None:
    admin = await tenant.headers(client)
    task = await make_task(client, admin, requires_photo=True)
    document = await upload(client, admin, PDF, "report.pdf", "application/pdf")
    assert refusal(await set_status(client, admin, task, "done", photo_attachment_id=document)) == (
        409,
        "photo_required",
    )


async def test_another_tenants_photo_is_not_found(client: Client, tenant: TenantKit, other_tenant: TenantKit) -> None:
    theirs = await upload(client, await other_tenant.headers(client), png(10, 10), "x.png", "image/png")
    admin = await tenant.headers(client)
    task = await make_task(client, admin, requires_photo=True)
    assert refusal(await set_status(client, admin, task, "done", photo_attachment_id=theirs)) == (404, "not_found")


async def test_two_opposite_edges_at_once_leave_no_cycle(client: Client, tenant: TenantKit, runtime: Runtime) -> None:
    admin = await tenant.headers(client)
    a = await make_task(client, admin)
    b = await make_task(client, admin)
    responses = await asyncio.gather(depend(client, admin, a, b), depend(client, admin, b, a))
    assert sorted(refusal(r) for r in responses) == sorted([(200, None), (422, "dependency_cycle")])
    assert await edge_count(runtime, tenant) == 1
