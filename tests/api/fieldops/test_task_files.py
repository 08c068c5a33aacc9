"""Files on a task: added from one's own unshared uploads by whoever may work on the task, listed and downloaded by
anyone who sees it, removed by who added them or a task manager, kept by the orphan sweep while on the task, and
refused for other people's uploads, files shared already, and other tenants' tasks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import select

from api.runtime import Runtime
from api.settings import Settings
from channels.retention import sweep_tenant
from channels.storage import LocalFileStorage
from persistence.models import Attachment, AuditEvent
from tests.api.fieldops.fieldkit import Client, upload
from tests.api.fieldops.test_tasks_api import make_task
from tests.api.identity.arrange import Headers, refusal
from tests.channels.files import png
from tests.kit import TenantKit

TASKS = "/api/v1/tasks"


async def staff_task(client: Client, tenant: TenantKit) -> tuple[str, Headers]:
    """A task assigned to the staff member; its id and the staff member's headers."""
    task = await make_task(client, await tenant.headers(client), assignee_id=str(tenant.users["staff"]))
    return task["id"], await tenant.headers(client, "staff")


async def add_file(client: Client, headers: Headers, task_id: str, file_id: str) -> Any:
    return await client.post(f"{TASKS}/{task_id}/files", json={"file_id": file_id}, headers=headers)


async def test_the_assignee_adds_a_file_everyone_lists(client: Client, tenant: TenantKit) -> None:
    task_id, staff = await staff_task(client, tenant)
    file_id = await upload(client, staff, png(10, 10), "shelf.png", "image/png")
    added = await add_file(client, staff, task_id, file_id)
    assert added.status_code == 201, added.text
    listed = await client.get(f"{TASKS}/{task_id}/files", headers=await tenant.headers(client, "supervisor"))
    assert [(f["file"]["id"], f["file"]["filename"], f["added_by"]) for f in listed.json()] == [
        (file_id, "shelf.png", str(tenant.users["staff"]))
    ]


async def test_a_file_on_a_task_is_downloaded(client: Client, tenant: TenantKit) -> None:
    task_id, staff = await staff_task(client, tenant)
    image = png(11, 11)
    file_id = await upload(client, staff, image, "shelf.png", "image/png")
    await add_file(client, staff, task_id, file_id)
    download = await client.get(f"{TASKS}/{task_id}/files/{file_id}/content", headers=await tenant.headers(client))
    assert (download.status_code, download.content) == (200, image)


async def test_a_file_not_on_the_task_is_not_downloaded(client: Client, tenant: TenantKit) -> None:
    task_id, staff = await staff_task(client, tenant)
    file_id = await upload(client, staff, png(12, 12), "elsewhere.png", "image/png")
    download = await client.get(f"{TASKS}/{task_id}/files/{file_id}/content", headers=await tenant.headers(client))
    assert refusal(download) == (404, "not_found")


async def test_adding_a_file_is_audited(client: Client, tenant: TenantKit, runtime: Runtime) -> None:
    task_id, staff = await staff_task(client, tenant)
    file_id = await upload(client, staff, png(10, 10), "shelf.png", "image/png")
    await add_file(client, staff, task_id, file_id)
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        event = await session.scalar(select(AuditEvent).where(AuditEvent.action == "task.file_add"))
    assert event is not None
    assert event.details["file_id"] == file_id


async def test_someone_elses_upload_is_not_found(client: Client, tenant: TenantKit) -> None:
    task_id, staff = await staff_task(client, tenant)
    theirs = await upload(client, await tenant.headers(client, "supervisor"), png(8, 8), "a.png", "image/png")
    assert refusal(await add_file(client, staff, task_id, theirs)) == (404, "not_found")


async def test_a_file_on_another_task_is_refused(client: Client, tenant: TenantKit) -> None:
    task_id, staff = await staff_task(client, tenant)
    other_id, _ = await staff_task(client, tenant)
    file_id = await upload(client, staff, png(8, 8), "a.png", "image/png")
    await add_file(client, staff, task_id, file_id)
    assert refusal(await add_file(client, staff, other_id, file_id)) == (409, "file_in_use")


async def test_someone_not_on_the_task_cannot_add_to_it(client: Client, tenant: TenantKit) -> None:
    task = await make_task(client, await tenant.headers(client), assignee_id=str(tenant.users["supervisor"]))
    staff = await tenant.headers(client, "staff")
    file_id = await upload(client, staff, png(8, 8), "a.png", "image/png")
    assert refusal(await add_file(client, staff, task["id"], file_id)) == (403, "not_your_task")


async def test_who_added_a_file_removes_it(client: Client, tenant: TenantKit) -> None:
    task_id, staff = await staff_task(client, tenant)
    file_id = await upload(client, staff, png(8, 8), "a.png", "image/png")
    await add_file(client, staff, task_id, file_id)
    assert (await client.delete(f"{TASKS}/{task_id}/files/{file_id}", headers=staff)).status_code == 204
    assert (await client.get(f"{TASKS}/{task_id}/files", headers=staff)).json() == []


async def test_another_worker_cannot_remove_someone_elses_file(client: Client, tenant: TenantKit) -> None:
    task_id, staff = await staff_task(client, tenant)
    file_id = await upload(client, staff, png(8, 8), "a.png", "image/png")
    await add_file(client, staff, task_id, file_id)
    await tenant.add_user("colleague", roles=["staff"])
    # A colleague may work on tasks, but not take down a file someone else added.
    headers = await tenant.headers(client, "colleague")
    response = await client.delete(f"{TASKS}/{task_id}/files/{file_id}", headers=headers)
    assert refusal(response) == (403, "not_your_file")


async def test_another_tenants_task_is_not_found(client: Client, tenant: TenantKit, runtime: Runtime) -> None:
    task_id, _ = await staff_task(client, tenant)
    other = await TenantKit.create(runtime)
    theirs = await other.headers(client)
    file_id = await upload(client, theirs, png(8, 8), "a.png", "image/png")
    assert refusal(await add_file(client, theirs, task_id, file_id)) == (404, "not_found")
    assert refusal(await client.get(f"{TASKS}/{task_id}/files", headers=theirs)) == (404, "not_found")


async def test_files_on_a_task_outlive_the_orphan_sweep(
    client: Client, tenant: TenantKit, runtime: Runtime, settings: Settings
) -> None:
    task_id, staff = await staff_task(client, tenant)
    kept = await upload(client, staff, png(12, 12), "kept.png", "image/png")
    await upload(client, staff, png(13, 13), "orphan.png", "image/png")
    await add_file(client, staff, task_id, kept)
    storage = LocalFileStorage(root=settings.data_path / "files")
    await sweep_tenant(db=runtime.db, storage=storage, tenant_id=tenant.id, now=datetime.now(UTC) + timedelta(days=2))
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        left = set((await session.scalars(select(Attachment.id))).all())
    assert left == {UUID(kept)}
