"""A person's data export: built by the worker, fetched once ready through a signed link, with everything of
theirs and nothing of anyone else's."""

from __future__ import annotations

import asyncio
import io
import json
import zipfile
from typing import TYPE_CHECKING, Any

import pytest

from api.privacy.jobs import privacy_job_handlers
from channels.storage import LocalFileStorage
from delivery.worker import Worker
from tests.api.identity.arrange import refusal
from tests.api.privacy.arrange import Client, Headers, person, with_data_everywhere
from tests.channels.files import png
from tests.kit import TenantKit, eventually

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from api.runtime import Runtime
    from api.settings import Settings


@pytest.fixture
async def privacy_worker(runtime: Runtime, settings: Settings) -> AsyncIterator[Worker]:
    """``fieldhub worker``'s privacy jobs, running during one test."""
    storage = LocalFileStorage(root=settings.data_path / "files")
    running = Worker(db=runtime.db, handlers=privacy_job_handlers(db=runtime.db, storage=storage), poll_seconds=0.2)
    stop = asyncio.Event()
    task = asyncio.create_task(running.run(stop))
    yield running
    stop.set()
    await asyncio.wait_for(task, 10)


async def ready_export(client: Client, headers: Headers, path: str = "/api/v1/privacy/me/exports") -> dict[str, Any]:
    async def ready() -> dict[str, Any] | None:
        exports: list[dict[str, Any]] = (await client.get(path, headers=headers)).json()
        return exports[0] if exports and exports[0]["status"] == "ready" else None

    return await eventually(ready)


async def downloaded(client: Client, url: str, settings: Settings) -> zipfile.ZipFile:
    response = await client.get(url.removeprefix(settings.public_url))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/zip"
    return zipfile.ZipFile(io.BytesIO(response.content))


@pytest.mark.usefixtures("privacy_worker")
async def test_the_export_holds_everything_of_the_person_and_nothing_of_others(
    client: Client, tenant: TenantKit, settings: Settings
) -> None:
    someone, other = await person(client, tenant), await person(client, tenant)
    await with_data_everywhere(client, tenant, someone, other)
    queued = await client.post("/api/v1/privacy/me/exports", headers=someone.headers)
    assert (queued.status_code, queued.json()["status"]) == (202, "queued")
    export = await ready_export(client, someone.headers)
    archive = await downloaded(client, export["download_url"], settings)
    names = set(archive.namelist())
    assert {"profile.json", "chat.json", "attendance.json", "tasks.json", "notifications.json", "audit.json"} <= names
    assert archive.read(f"files/{someone.file_id}-{someone.name}.png") == png(8, 8)
    text = " ".join(archive.read(name).decode() for name in names if name.endswith(".json"))
    for mine in (someone.email, someone.name, someone.message, "+33 6 12 34 56 78", "Welcome"):
        assert mine in text
    for theirs in (other.email, other.name, other.message, "argon2"):
        assert theirs not in text


@pytest.mark.usefixtures("privacy_worker")
async def test_an_admin_exports_someone_elses_data(client: Client, tenant: TenantKit, settings: Settings) -> None:
    someone = await person(client, tenant)
    admin = await tenant.headers(client, "admin")
    path = f"/api/v1/privacy/users/{someone.id}/exports"
    assert (await client.post(path, headers=admin)).status_code == 202
    archive = await downloaded(client, (await ready_export(client, admin, path))["download_url"], settings)
    assert someone.email in archive.read("profile.json").decode()


async def test_a_second_export_while_one_is_queued_is_refused(client: Client, tenant: TenantKit) -> None:
    someone = await person(client, tenant)
    assert (await client.post("/api/v1/privacy/me/exports", headers=someone.headers)).status_code == 202
    second = await client.post("/api/v1/privacy/me/exports", headers=someone.headers)
    assert refusal(second) == (409, "export_pending")


async def test_staff_cannot_export_someone_else(client: Client, tenant: TenantKit) -> None:
    staff = await tenant.headers(client, "staff")
    refused = await client.post(f"/api/v1/privacy/users/{tenant.users['admin']}/exports", headers=staff)
    assert refusal(refused) == (403, "forbidden")


@pytest.mark.usefixtures("privacy_worker")
async def test_a_forged_link_is_refused(client: Client, tenant: TenantKit) -> None:
    someone = await person(client, tenant)
    await client.post("/api/v1/privacy/me/exports", headers=someone.headers)
    url: str = (await ready_export(client, someone.headers))["download_url"]
    body, mac = url.rsplit("/", 1)[1].split(".")
    forged = f"/api/v1/privacy/exports/{body}.{mac[:-2]}AA"
    assert refusal(await client.get(forged)) == (400, "invalid_link")


@pytest.mark.usefixtures("privacy_worker")
async def test_each_domain_file_holds_the_persons_own_rows(
    client: Client, tenant: TenantKit, settings: Settings
) -> None:
    someone, other = await person(client, tenant), await person(client, tenant)
    await with_data_everywhere(client, tenant, someone, other)
    await client.post("/api/v1/privacy/me/exports", headers=someone.headers)
    archive = await downloaded(client, (await ready_export(client, someone.headers))["download_url"], settings)

    def table(domain: str, name: str) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = json.loads(archive.read(f"{domain}.json"))[name]
        return rows

    mine = str(someone.id)
    assert [(u["id"], u["email"], u["phone"]) for u in table("profile", "app_user")] == [
        (mine, someone.email, "+33 6 12 34 56 78")
    ]
    [said] = table("chat", "message")
    assert (said["author_id"], said["body"].startswith(someone.message)) == (mine, True)
    assert [a["id"] for a in table("chat", "attachment")] == [someone.file_id]
    assert [r["user_id"] for r in table("attendance", "attendance_record")] == [mine]
    assert [(t["title"], t["assignee_id"]) for t in table("tasks", "task")] == [("Restock", mine)]
    assert [c["body"] for c in table("tasks", "task_comment")] == [f"{someone.message} done by {someone.name}"]
    notices = table("notifications", "notification")
    assert f"Welcome {someone.name}" in [n["title"] for n in notices]
    assert {n["user_id"] for n in notices} == {mine}
    assert [s["user_agent"] for s in table("notifications", "push_subscription")] == [f"phone of {someone.name}"]
    assert table("audit", "audit_event")
    assert {e["actor_user_id"] for e in table("audit", "audit_event")} == {mine}
