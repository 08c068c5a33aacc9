"""Attachment rules: sniffed types, limits that leave nothing behind, hashes, image sizes, who may read, linking."""

from __future__ import annotations

import hashlib
from pathlib import Path
from uuid import uuid4

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from api.runtime import Runtime
from channels.attachments import FileError, claim_attachments, readable_attachment, upload_file
from channels.storage import LocalFileStorage
from persistence.models import Attachment
from tests.channels.chat import channel, say
from tests.channels.files import (
    ELF,
    PE,
    attachment_row,
    chunked,
    gif,
    jpeg,
    office,
    png,
    stored_files,
    upload,
    webp,
)
from tests.kit import TenantKit


@pytest.fixture
def storage(tmp_path: Path) -> LocalFileStorage:
    return LocalFileStorage(root=tmp_path / "files")


async def count_attachments(runtime: Runtime, tenant: TenantKit) -> int:
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        return int(await session.scalar(select(func.count()).select_from(Attachment)) or 0)


async def test_upload_keeps_the_exact_bytes_and_their_sha256(
    runtime: Runtime, tenant: TenantKit, storage: LocalFileStorage
) -> None:
    data = png(3, 2) + b"\x00" * 300_000  # several chunks
    attachment = await upload(runtime, storage, tenant, "staff", data, "photo.png")
    assert attachment.sha256 == hashlib.sha256(data).hexdigest()
    assert attachment.size == len(data)
    assert storage.path_of(attachment.storage_key).read_bytes() == data


@pytest.mark.parametrize(
    ("data", "content_type", "size"),
    [
        (png(640, 480), "image/png", (640, 480)),
        (jpeg(1920, 1080), "image/jpeg", (1920, 1080)),
        (jpeg(300, 200, exif_bytes=60_000), "image/jpeg", (300, 200)),
        (gif(16, 32), "image/gif", (16, 32)),
        (webp(1000, 750), "image/webp", (1000, 750)),
    ],
    ids=["png", "jpeg", "jpeg-behind-exif", "gif", "webp"],
)
async def test_images_get_their_type_and_size_from_their_headers(
    runtime: Runtime,
    tenant: TenantKit,
    storage: LocalFileStorage,
    data: bytes,
    content_type: str,
    size: tuple[int, int],
) -> None:
    attachment = await upload(runtime, storage, tenant, "staff", data, "picture")
    assert attachment.content_type == content_type
    assert (attachment.width, attachment.height) == size


@pytest.mark.parametrize(("program", "name"), [(ELF, "holiday.png"), (PE, "invoice.pdf")], ids=["elf", "pe"])
async def test_a_disguised_executable_is_refused_and_nothing_is_kept(
    runtime: Runtime, tenant: TenantKit, storage: LocalFileStorage, program: bytes, name: str
) -> None:
    with pytest.raises(FileError) as refused:
        await upload(runtime, storage, tenant, "staff", program, name)
    assert refused.value.code == "unsupported_file_type"
    assert stored_files(storage) == []
    assert await count_attachments(runtime, tenant) == 0


@pytest.mark.parametrize(
    "text",
    [b"<!DOCTYPE html><script>alert(1)</script>", b'  <svg xmlns="http://www.w3.org/2000/svg"/>'],
    ids=["html", "svg"],
)
async def test_web_pages_are_refused_whatever_their_name(
    runtime: Runtime, tenant: TenantKit, storage: LocalFileStorage, text: bytes
) -> None:
    with pytest.raises(FileError, match="cannot be shared"):
        await upload(runtime, storage, tenant, "staff", text, "notes.txt")


async def test_a_script_name_is_refused_even_for_plain_text(
    runtime: Runtime, tenant: TenantKit, storage: LocalFileStorage
) -> None:
    with pytest.raises(FileError) as refused:
        await upload(runtime, storage, tenant, "staff", b"console.log('hi')", "tool.js")
    assert refused.value.code == "unsupported_file_type"


async def test_over_the_limit_is_refused_while_streaming_and_leaves_nothing(
    runtime: Runtime, tenant: TenantKit, storage: LocalFileStorage
) -> None:
    with pytest.raises(FileError) as refused:
        await upload(runtime, storage, tenant, "staff", png(2, 2) + b"\x00" * 200_000, "big.png", max_bytes=100_000)
    assert refused.value.code == "file_too_large"
    assert stored_files(storage) == []
    assert await count_attachments(runtime, tenant) == 0


async def test_an_empty_file_is_refused(runtime: Runtime, tenant: TenantKit, storage: LocalFileStorage) -> None:
    with pytest.raises(FileError) as refused:
        await upload(runtime, storage, tenant, "staff", b"", "empty.txt")
    assert refused.value.code == "empty_file"
    assert stored_files(storage) == []


async def test_a_word_document_is_recognised_from_its_zip_directory(
    runtime: Runtime, tenant: TenantKit, storage: LocalFileStorage
) -> None:
    attachment = await upload(runtime, storage, tenant, "staff", office(["word/document.xml"]), "report")
    assert attachment.content_type.endswith("wordprocessingml.document")
    assert attachment.filename == "report.docx"


async def test_a_plain_zip_and_a_macro_document_are_refused(
    runtime: Runtime, tenant: TenantKit, storage: LocalFileStorage
) -> None:
    for data in (office(["payload.bin"]), office(["word/document.xml", "word/vbaProject.bin"])):
        with pytest.raises(FileError, match="cannot be shared"):
            await upload(runtime, storage, tenant, "staff", data, "archive.docx")


async def test_utf8_text_named_csv_is_served_as_csv(
    runtime: Runtime, tenant: TenantKit, storage: LocalFileStorage
) -> None:
    attachment = await upload(runtime, storage, tenant, "staff", "store;visits\nLidl Köln;3\n".encode(), "visits.csv")
    assert attachment.content_type == "text/csv; charset=utf-8"


async def test_the_client_name_gets_the_sniffed_types_extension(
    runtime: Runtime, tenant: TenantKit, storage: LocalFileStorage
) -> None:
    attachment = await upload(runtime, storage, tenant, "staff", png(1, 1), "../../shelf.pdf")
    assert attachment.filename == "shelf.pdf.png"
    assert attachment.content_type == "image/png"


async def test_the_uploader_may_read_an_unshared_upload_and_no_one_else(
    runtime: Runtime, tenant: TenantKit, storage: LocalFileStorage
) -> None:
    attachment = await upload(runtime, storage, tenant, "staff", png(1, 1), "a.png")
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        mine = await readable_attachment(session, attachment_id=attachment.id, user_id=tenant.users["staff"])
        assert mine.id == attachment.id
        with pytest.raises(FileError) as refused:
            await readable_attachment(session, attachment_id=attachment.id, user_id=tenant.users["admin"])
    assert refused.value.code == "not_found"


async def test_a_shared_file_is_readable_by_members_only(
    runtime: Runtime, tenant: TenantKit, storage: LocalFileStorage
) -> None:
    conversation_id = await channel(runtime, tenant, members=("staff",))
    attachment = await upload(runtime, storage, tenant, "staff", png(1, 1), "a.png")
    await say(runtime, tenant, "staff", conversation_id, "look", attachment_ids=[attachment.id])
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        readable = await readable_attachment(session, attachment_id=attachment.id, user_id=tenant.users["admin"])
        assert readable.conversation_id == conversation_id
        with pytest.raises(FileError, match="No such file"):
            await readable_attachment(session, attachment_id=attachment.id, user_id=tenant.users["moderator"])


async def test_another_tenant_cannot_see_the_file(
    runtime: Runtime, tenant: TenantKit, other_tenant: TenantKit, storage: LocalFileStorage
) -> None:
    attachment = await upload(runtime, storage, tenant, "staff", png(1, 1), "a.png")
    assert await attachment_row(runtime, other_tenant.id, attachment.id) is None


async def test_claiming_links_the_uploads_to_the_message(
    runtime: Runtime, tenant: TenantKit, storage: LocalFileStorage
) -> None:
    conversation_id = await channel(runtime, tenant, members=("staff",))
    first = await upload(runtime, storage, tenant, "staff", png(1, 1), "a.png")
    second = await upload(runtime, storage, tenant, "staff", gif(1, 1), "b.gif")
    message = await say(runtime, tenant, "staff", conversation_id, "two", attachment_ids=[second.id, first.id])
    for attachment in (first, second):
        row = await attachment_row(runtime, tenant.id, attachment.id)
        assert row is not None
        assert (row.message_id, row.conversation_id) == (message.id, conversation_id)


async def test_claiming_someone_elses_upload_is_invalid(
    runtime: Runtime, tenant: TenantKit, storage: LocalFileStorage
) -> None:
    conversation_id = await channel(runtime, tenant, members=("staff",))
    theirs = await upload(runtime, storage, tenant, "admin", png(1, 1), "a.png")
    message = await say(runtime, tenant, "staff", conversation_id, "hello")
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        with pytest.raises(FileError) as refused:
            await claim_attachments(
                session,
                tenant_id=tenant.id,
                uploader_id=tenant.users["staff"],
                conversation_id=conversation_id,
                message_id=message.id,
                attachment_ids=[theirs.id],
            )
    assert refused.value.code == "invalid_attachment"


async def test_an_upload_is_claimed_once(runtime: Runtime, tenant: TenantKit, storage: LocalFileStorage) -> None:
    conversation_id = await channel(runtime, tenant, members=("staff",))
    attachment = await upload(runtime, storage, tenant, "staff", png(1, 1), "a.png")
    await say(runtime, tenant, "staff", conversation_id, "first", attachment_ids=[attachment.id])
    second = await say(runtime, tenant, "staff", conversation_id, "second")
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        with pytest.raises(FileError, match="already shared"):
            await claim_attachments(
                session,
                tenant_id=tenant.id,
                uploader_id=tenant.users["staff"],
                conversation_id=conversation_id,
                message_id=second.id,
                attachment_ids=[attachment.id],
            )


async def test_a_failed_database_write_removes_the_stored_bytes(
    runtime: Runtime, tenant: TenantKit, storage: LocalFileStorage
) -> None:
    with pytest.raises(IntegrityError):
        await upload_file(
            db=runtime.db,
            storage=storage,
            tenant_id=tenant.id,
            uploader_id=uuid4(),  # no such user: the row's foreign key fails after the bytes are stored
            filename="a.png",
            chunks=chunked(png(1, 1)),
        )
    assert stored_files(storage) == []
