"""Files shared in chat: streamed upload, metadata, download (safe headers), deleting one's unshared upload."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from litestar import Controller, Request, delete, get, post
from litestar.params import Parameter
from litestar.response import Stream

from api.auth.principal import CurrentUser
from api.chat.schemas_files import AttachmentResponse, attachment_response
from api.chat.uploads import (
    ENVELOPE_BYTES,
    FileStorageDep,
    MultipartFile,
    file_download,
    file_error_response,
    file_storage,
)
from api.deps import CallerDep, DbSession, RuntimeDep
from channels.attachments import FileError, delete_upload, readable_attachment, upload_file

FileId = Annotated[UUID, Parameter(description="The file's id.")]


class FileController(Controller):
    path = "/api/v1/files"
    tags = ["files"]
    dependencies = {"file_storage": file_storage}
    exception_handlers = {FileError: file_error_response}

    @post(
        "/",
        operation_id="UploadFile",
        status_code=201,
        # This route reads its body as a stream and enforces FIELDHUB_MAX_UPLOAD_BYTES itself.
        request_max_body_size=None,
    )
    async def upload(
        self,
        request: Request[CurrentUser, Any, Any],
        runtime: RuntimeDep,
        current_user: CallerDep,
        file_storage: FileStorageDep,
    ) -> AttachmentResponse:
        """Upload one file in the ``file`` field of a ``multipart/form-data`` body.

        The type is read from the file's bytes and must be an allowed one (images, PDF, Office
        and OpenDocument files, UTF-8 text); ``413 file_too_large``, ``415 unsupported_file_type``,
        ``400 empty_file`` / ``missing_file`` / ``invalid_multipart``. An upload not attached to a
        message within a day is deleted.
        """
        limit = runtime.settings.max_upload_bytes
        if (request.content_length or 0) > limit + ENVELOPE_BYTES:
            raise FileError("file_too_large", f"Files may be at most {limit} bytes.")
        form = MultipartFile(
            body=request.stream(),
            content_type=request.headers.get("content-type", ""),
            field="file",
            max_body_bytes=limit + ENVELOPE_BYTES,
        )
        filename = await form.open()
        attachment = await upload_file(
            db=runtime.db,
            storage=file_storage,
            tenant_id=current_user.tenant_id,
            uploader_id=current_user.id,
            filename=filename,
            chunks=form.chunks(),
            max_bytes=limit,
        )
        try:
            await form.finish()
        except Exception:
            await _forget(runtime, file_storage, attachment.tenant_id, attachment.id, attachment.uploader_id)
            raise
        return attachment_response(attachment)

    @get("/{file_id:uuid}", operation_id="GetFile")
    async def get_file(self, db_session: DbSession, current_user: CallerDep, file_id: FileId) -> AttachmentResponse:
        """A file's metadata: for members of the conversation it was shared in, or its uploader before that."""
        return attachment_response(
            await readable_attachment(db_session, attachment_id=file_id, user_id=current_user.id)
        )

    @get("/{file_id:uuid}/content", operation_id="DownloadFile")
    async def download(
        self, db_session: DbSession, current_user: CallerDep, file_storage: FileStorageDep, file_id: FileId
    ) -> Stream:
        """The file's bytes with its sniffed ``Content-Type``; images inline, everything else as a download."""
        attachment = await readable_attachment(db_session, attachment_id=file_id, user_id=current_user.id)
        return await file_download(file_storage, attachment)

    @delete("/{file_id:uuid}", operation_id="DeleteFile", status_code=204)
    async def delete_file(
        self, runtime: RuntimeDep, current_user: CallerDep, file_storage: FileStorageDep, file_id: FileId
    ) -> None:
        """Delete one's own upload before it is shared (``409 attachment_in_use`` after)."""
        async with runtime.db.transaction(tenant_id=current_user.tenant_id) as session:
            key = await delete_upload(
                session, tenant_id=current_user.tenant_id, attachment_id=file_id, user_id=current_user.id
            )
        # The row is gone and a deletion job is committed with it; deleting now only saves waiting.
        await file_storage.delete(key)


async def _forget(
    runtime: RuntimeDep, storage: FileStorageDep, tenant_id: UUID, attachment_id: UUID, uploader_id: UUID | None
) -> None:
    """Undo a stored upload whose request turned out malformed after the file."""
    if uploader_id is None:
        return
    async with runtime.db.transaction(tenant_id=tenant_id) as session:
        key = await delete_upload(session, tenant_id=tenant_id, attachment_id=attachment_id, user_id=uploader_id)
    await storage.delete(key)
