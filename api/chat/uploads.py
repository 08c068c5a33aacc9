"""HTTP pieces of file sharing: the file storage provider, one file read from a streamed multipart body, a stored
file streamed back with safe headers, file errors."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from litestar.di import NamedDependency, Provide
from litestar.response import Stream
from multipart import MultipartError, MultipartSegment, PushMultipartParser, parse_options_header  # type: ignore[import-untyped]

from api.deps import RuntimeDep
from api.errors import AppError, error_response
from channels.attachments import FileError
from channels.storage import FileMissingError, FileStorage, LocalFileStorage

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from litestar import Request, Response

    from persistence.models import Attachment

log = logging.getLogger("fieldhub.api.files")

ENVELOPE_BYTES = 64 * 1024
"""What a multipart body may carry beyond the file itself (boundaries, part headers, small fields)."""
MAX_PARTS = 8
# A downloaded file is data, never a page: no type guessing, no scripts, no plugins, no framing.
SAFE_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; sandbox",
    "Cache-Control": "private, no-cache",
    "Cross-Origin-Resource-Policy": "same-origin",
}

FileStorageDep = NamedDependency[FileStorage]
"""Where files' bytes are kept (``file_storage`` parameter)."""


def provide_file_storage(runtime: RuntimeDep) -> FileStorage:
    return LocalFileStorage(root=runtime.settings.data_path / "files")


file_storage = Provide(provide_file_storage, sync_to_thread=False)


def file_error_response(_: Request[Any, Any, Any], exc: FileError) -> Response[Any]:
    return error_response(exc.code, exc.message, exc.status_code)


def content_disposition(filename: str, *, inline: bool) -> str:
    """An RFC 6266 ``Content-Disposition``: an ASCII ``filename`` for old clients and the exact ``filename*``.

    >>> content_disposition('Übersicht "Q1".pdf', inline=False)
    'attachment; filename="_bersicht _Q1_.pdf"; filename*=UTF-8\\'\\'%C3%9Cbersicht%20%22Q1%22.pdf'
    """
    fallback = "".join(c if 0x20 <= ord(c) < 0x7F and c not in '"\\' else "_" for c in filename)
    kind = "inline" if inline else "attachment"
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


async def file_download(storage: FileStorage, attachment: Attachment, *, inline: bool | None = None) -> Stream:
    """A stored file's bytes with its sniffed type and safe headers; images inline unless ``inline`` says.

    Raises:
        AppError: ``not_found`` (404) when the bytes are missing from storage.
    """
    try:
        content = await storage.open(attachment.storage_key)
    except FileMissingError:
        log.warning("a file's bytes are missing from storage", extra={"attachment_id": str(attachment.id)})
        raise AppError("not_found", "No such file.", status_code=404) from None
    if inline is None:
        inline = attachment.content_type.startswith("image/")
    return Stream(
        content,
        media_type=attachment.content_type,
        headers={
            **SAFE_HEADERS,
            "Content-Disposition": content_disposition(attachment.filename, inline=inline),
            "Content-Length": str(attachment.size),
            "ETag": f'"{attachment.sha256}"',
        },
    )


class MultipartFile:
    """The one file of a ``multipart/form-data`` body, read as it arrives and never held in memory.

    Use in order: :meth:`open` (skips to the file part, returns its name), :meth:`chunks` (its
    bytes), :meth:`finish` (reads the rest and checks the body is complete).

    Args:
        body: the request's byte stream.
        content_type: the request's ``Content-Type`` header.
        field: the form field carrying the file.
        max_body_bytes: the whole body's limit; more is ``file_too_large``.
    """

    def __init__(self, *, body: AsyncIterator[bytes], content_type: str, field: str, max_body_bytes: int) -> None:
        kind, options = parse_options_header(content_type)
        boundary = options.get("boundary")
        if kind != "multipart/form-data" or not boundary:
            raise AppError("unsupported_media_type", "Upload the file as multipart/form-data.", status_code=415)
        self._boundary: str = boundary
        self._body = body
        self._field = field
        self._max = max_body_bytes
        self._events = self._parse()

    async def open(self) -> str:
        """Read up to the file part; return the file name the client gave (possibly empty)."""
        async for event in self._events:
            if isinstance(event, MultipartSegment) and event.name == self._field and event.filename is not None:
                return str(event.filename)
        raise AppError("missing_file", f"The form has no file in its {self._field!r} field.")

    async def chunks(self) -> AsyncIterator[bytes]:
        """The file part's bytes as they arrive."""
        async for event in self._events:
            if event is None:
                return
            yield bytes(event)
        raise AppError("invalid_multipart", "The upload ended in the middle of the file.")

    async def finish(self) -> None:
        """Read what follows the file, so a truncated or malformed body is refused."""
        async for _ in self._events:
            pass

    async def _parse(self) -> AsyncIterator[MultipartSegment | bytes | None]:
        parser = PushMultipartParser(self._boundary, max_segment_count=MAX_PARTS)
        received = 0
        try:
            async for chunk in self._body:
                received += len(chunk)
                if received > self._max:
                    raise FileError("file_too_large", "The upload is larger than files may be.")
                for event in parser.parse(chunk):
                    yield event
                if parser.closed:
                    return
            parser.close()
        except MultipartError as exc:
            raise AppError("invalid_multipart", f"The multipart body is malformed: {exc}.") from None
