"""Building test files byte by byte (images with known sizes, Office documents, programs) and uploading them."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from collections.abc import AsyncIterator, Iterable
from uuid import UUID

from api.runtime import Runtime
from channels.attachments import upload_file
from channels.storage import LocalFileStorage
from persistence.models import Attachment
from tests.kit import TenantKit


def png(width: int, height: int) -> bytes:
    """A valid PNG of ``width`` x ``height`` black pixels."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"\x00" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def jpeg(width: int, height: int, *, exif_bytes: int = 0) -> bytes:
    """A JPEG header (APP0, an optional APP1 of ``exif_bytes``, SOF0) with the given size; enough to sniff and measure."""
    app0 = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    app1 = b"\xff\xe1" + struct.pack(">H", exif_bytes + 2) + b"\x00" * exif_bytes if exif_bytes else b""
    sof0 = b"\xff\xc0" + struct.pack(">HBHHB", 11, 8, height, width, 1) + b"\x01\x11\x00"
    return b"\xff\xd8" + app0 + app1 + sof0 + b"\xff\xda\x00\x08\x01\x01\x00\x00\x3f\x00" + b"\x00" * 64 + b"\xff\xd9"


def gif(width: int, height: int) -> bytes:
    return b"GIF89a" + struct.pack("<HH", width, height) + b"\x00\x00\x00" + b"\x3b"


def webp(width: int, height: int) -> bytes:
    """An extended-format (VP8X) WebP header."""
    vp8x = b"VP8X" + struct.pack("<I", 10) + b"\x00\x00\x00\x00"
    vp8x += (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
    return b"RIFF" + struct.pack("<I", 4 + len(vp8x)) + b"WEBP" + vp8x


def office(parts: Iterable[str]) -> bytes:
    """A ZIP holding ``parts`` (``word/document.xml`` makes a Word document)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        for name in parts:
            archive.writestr(name, "<x/>" * 50)
    return buffer.getvalue()


ELF = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 8 + b"\x02\x00\x3e\x00" + b"\x00" * 200
PE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 44 + b"PE\x00\x00" + b"\x00" * 200


async def chunked(data: bytes, size: int = 64 * 1024) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


def stored_files(storage: LocalFileStorage) -> list[str]:
    """Every file under the storage's folder, partial ones included."""
    if not storage.root.exists():
        return []
    return sorted(str(path.relative_to(storage.root)) for path in storage.root.rglob("*") if path.is_file())


async def upload(
    runtime: Runtime,
    storage: LocalFileStorage,
    tenant: TenantKit,
    role: str,
    data: bytes,
    filename: str = "file.bin",
    *,
    max_bytes: int = 25 * 1024 * 1024,
) -> Attachment:
    return await upload_file(
        db=runtime.db,
        storage=storage,
        tenant_id=tenant.id,
        uploader_id=tenant.users[role],
        filename=filename,
        chunks=chunked(data),
        max_bytes=max_bytes,
    )


async def attachment_row(runtime: Runtime, tenant_id: UUID, attachment_id: UUID) -> Attachment | None:
    async with runtime.db.transaction(tenant_id=tenant_id) as session:
        return await session.get(Attachment, attachment_id)
