"""The file routes: streamed multipart upload, limits, download headers, who may read, deleting, retention settings."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import UUID

import anyio.to_thread
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import select

from api.chat.uploads import ENVELOPE_BYTES
from api.runtime import Runtime
from api.settings import Settings
from persistence.models import AuditEvent
from tests.channels.chat import channel, say
from tests.channels.files import ELF, png
from tests.kit import TenantKit

Client = AsyncTestClient[Litestar]
PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def tenant_files(settings: Settings, tenant: TenantKit) -> list[Path]:
    folder = settings.data_path / "files" / str(tenant.id)
    return sorted(path for path in folder.rglob("*") if path.is_file()) if folder.exists() else []


async def post_file(
    client: Client, headers: dict[str, Any], data: bytes, name: str = "photo.png", content_type: str = "image/png"
) -> Any:
    return await client.post("/api/v1/files", files={"file": (name, data, content_type)}, headers=headers)


async def shared_upload(
    client: Client, runtime: Runtime, tenant: TenantKit, data: bytes, name: str, *, members: tuple[str, ...]
) -> str:
    """An upload of ``staff`` shared in a new channel whose members are the admin and ``members``."""
    uploaded = await post_file(client, await tenant.headers(client, "staff"), data, name)
    assert uploaded.status_code == 201, uploaded.text
    conversation_id = await channel(runtime, tenant, members=members)
    await say(runtime, tenant, "staff", conversation_id, "see file", attachment_ids=[UUID(uploaded.json()["id"])])
    file_id: str = uploaded.json()["id"]
    return file_id


async def test_upload_returns_the_sniffed_type_size_hash_and_dimensions(client: Client, tenant: TenantKit) -> None:
    data = png(120, 80)
    response = await post_file(client, await tenant.headers(client, "staff"), data, "shelf.png", "text/html")
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["content_type"], body["width"], body["height"]) == ("image/png", 120, 80)
    assert (body["size"], body["sha256"]) == (len(data), hashlib.sha256(data).hexdigest())


async def test_a_disguised_executable_gets_415_and_nothing_is_stored(
    client: Client, tenant: TenantKit, settings: Settings
) -> None:
    response = await post_file(client, await tenant.headers(client, "staff"), ELF, "cute-cat.png")
    assert response.status_code == 415
    assert response.json()["error"]["code"] == "unsupported_file_type"
    assert tenant_files(settings, tenant) == []


async def test_an_announced_oversized_body_gets_413_before_anything_is_read(
    client: Client, tenant: TenantKit, settings: Settings
) -> None:
    data = png(1, 1) + b"\x00" * (settings.max_upload_bytes + ENVELOPE_BYTES)
    response = await post_file(client, await tenant.headers(client, "staff"), data)
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "file_too_large"
    assert not (settings.data_path / "files" / str(tenant.id)).exists()


async def post_chunked(client: Client, path: str, headers: dict[str, str], chunks: Iterator[bytes]) -> tuple[int, Any]:
    """POST ``chunks`` to the app as an HTTP server would stream them: no Content-Length, one message per chunk.

    (The test client always sends a whole body with its length, so this speaks ASGI directly.)
    """
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }
    pending = iter(chunks)
    status = 0
    body = bytearray()

    async def receive() -> dict[str, Any]:
        chunk = next(pending, None)
        if chunk is None:
            return {"type": "http.request", "body": b"", "more_body": False}
        return {"type": "http.request", "body": chunk, "more_body": True}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            body.extend(message.get("body", b""))

    # The app lives on the client's own event loop (its portal thread): run it there.
    await anyio.to_thread.run_sync(client.blocking_portal.call, client.app, scope, receive, send)
    return status, json.loads(body)


async def test_a_streamed_oversized_file_gets_413_and_leaves_nothing_on_disk(
    client: Client, tenant: TenantKit, settings: Settings
) -> None:
    boundary = "fieldhub-test-boundary"
    sent = 0

    def body() -> Iterator[bytes]:
        nonlocal sent
        yield (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.png"\r\n'
            "Content-Type: image/png\r\n\r\n"
        ).encode()
        yield png(1, 1)
        for _ in range(settings.max_upload_bytes // (1024 * 1024) + 2):
            sent += 1
            yield b"\x00" * (1024 * 1024)
        yield f"\r\n--{boundary}--\r\n".encode()

    headers = await tenant.headers(client, "staff")
    status, error = await post_chunked(
        client,
        "/api/v1/files",
        {**headers, "Content-Type": f"multipart/form-data; boundary={boundary}"},
        body(),
    )
    assert (status, error["error"]["code"]) == (413, "file_too_large")
    assert sent <= settings.max_upload_bytes // (1024 * 1024) + 1  # stopped reading at the limit
    assert tenant_files(settings, tenant) == []


async def test_a_form_without_a_file_is_refused(client: Client, tenant: TenantKit) -> None:
    response = await client.post(
        "/api/v1/files", files={"note": ("", b"hi", "text/plain")}, headers=await tenant.headers(client, "staff")
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "missing_file"


async def test_an_image_downloads_inline_with_safe_headers(client: Client, runtime: Runtime, tenant: TenantKit) -> None:
    data = png(4, 4)
    file_id = await shared_upload(client, runtime, tenant, data, "Regal Köln.png", members=("staff",))
    response = await client.get(f"/api/v1/files/{file_id}/content", headers=await tenant.headers(client, "admin"))
    assert response.status_code == 200
    assert response.content == data
    assert response.headers["content-type"] == "image/png"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["content-security-policy"] == "default-src 'none'; sandbox"
    assert response.headers["content-disposition"] == (
        "inline; filename=\"Regal K_ln.png\"; filename*=UTF-8''Regal%20K%C3%B6ln.png"
    )


async def test_a_document_downloads_as_an_attachment(client: Client, runtime: Runtime, tenant: TenantKit) -> None:
    file_id = await shared_upload(client, runtime, tenant, PDF, "plan.pdf", members=("staff",))
    response = await client.get(f"/api/v1/files/{file_id}/content", headers=await tenant.headers(client, "admin"))
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"].startswith('attachment; filename="plan.pdf"')


async def test_a_member_reads_the_metadata(client: Client, runtime: Runtime, tenant: TenantKit) -> None:
    file_id = await shared_upload(client, runtime, tenant, PDF, "plan.pdf", members=("staff",))
    response = await client.get(f"/api/v1/files/{file_id}", headers=await tenant.headers(client, "admin"))
    assert response.status_code == 200
    assert response.json()["message_id"] is not None


async def test_a_non_member_gets_404(client: Client, runtime: Runtime, tenant: TenantKit) -> None:
    file_id = await shared_upload(client, runtime, tenant, PDF, "plan.pdf", members=("staff",))
    headers = await tenant.headers(client, "moderator")
    for path in (f"/api/v1/files/{file_id}", f"/api/v1/files/{file_id}/content"):
        response = await client.get(path, headers=headers)
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"


async def test_another_tenants_admin_gets_404(
    client: Client, runtime: Runtime, tenant: TenantKit, other_tenant: TenantKit
) -> None:
    file_id = await shared_upload(client, runtime, tenant, PDF, "plan.pdf", members=("staff",))
    response = await client.get(f"/api/v1/files/{file_id}/content", headers=await other_tenant.headers(client))
    assert response.status_code == 404


async def test_the_uploader_deletes_an_unshared_upload_with_its_bytes(
    client: Client, tenant: TenantKit, settings: Settings
) -> None:
    headers = await tenant.headers(client, "staff")
    uploaded = await post_file(client, headers, png(1, 1))
    assert tenant_files(settings, tenant) != []
    response = await client.delete(f"/api/v1/files/{uploaded.json()['id']}", headers=headers)
    assert response.status_code == 204
    assert tenant_files(settings, tenant) == []
    assert (await client.get(f"/api/v1/files/{uploaded.json()['id']}", headers=headers)).status_code == 404


async def test_a_shared_file_cannot_be_deleted_on_its_own(client: Client, runtime: Runtime, tenant: TenantKit) -> None:
    file_id = await shared_upload(client, runtime, tenant, PDF, "plan.pdf", members=("staff",))
    response = await client.delete(f"/api/v1/files/{file_id}", headers=await tenant.headers(client, "staff"))
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "attachment_in_use"


async def test_an_admin_sets_retention_and_it_is_audited(client: Client, runtime: Runtime, tenant: TenantKit) -> None:
    headers = await tenant.headers(client, "admin")
    response = await client.put(
        "/api/v1/tenants/current/retention", json={"message_days": 365, "file_days": 90}, headers=headers
    )
    assert response.status_code == 200, response.text
    read = await client.get("/api/v1/tenants/current/retention", headers=headers)
    assert read.json() == {"message_days": 365, "file_days": 90}
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        audit = await session.scalar(select(AuditEvent).where(AuditEvent.action == "chat.retention.updated"))
    assert audit is not None
    assert audit.details["after"] == {"message_days": 365, "file_days": 90}


async def test_staff_may_not_set_retention(client: Client, tenant: TenantKit) -> None:
    response = await client.put(
        "/api/v1/tenants/current/retention",
        json={"message_days": 1, "file_days": None},
        headers=await tenant.headers(client, "staff"),
    )
    assert response.status_code == 403


@pytest.mark.parametrize("days", [0, -1, 100_000])
async def test_a_retention_period_out_of_range_is_refused(client: Client, tenant: TenantKit, days: int) -> None:
    response = await client.put(
        "/api/v1/tenants/current/retention",
        json={"message_days": days, "file_days": None},
        headers=await tenant.headers(client, "admin"),
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_request"
