"""Attachment rules: store an upload (size limit, sniffed type, SHA-256, image size), who may read it, linking it to a message."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Final, Literal

import anyio
from sqlalchemy import delete, exists, select
from uuid_utils.compat import uuid7

from channels.filetypes import EARLY_BYTES, early_refusal, image_size, refused_extension, safe_filename, sniff
from persistence.jobs import enqueue
from persistence.models import Attachment, ConversationMember, Message, MessageModeration

if TYPE_CHECKING:
    from collections.abc import AsyncIterable, AsyncIterator, Iterable, Sequence
    from uuid import UUID

    from sqlalchemy.ext.asyncio import AsyncSession

    from channels.storage import FileStorage
    from persistence.engine import Database

__all__ = [
    "DELETE_FILES_JOB",
    "FileError",
    "claim_attachments",
    "delete_upload",
    "readable_attachment",
    "release_message_files",
    "schedule_file_deletion",
    "storage_key",
    "upload_file",
]

DEFAULT_MAX_BYTES: Final = 25 * 1024 * 1024
MAX_PER_MESSAGE: Final = 10
HEAD_BYTES: Final = 256 * 1024
"""Kept from the start of a file for sniffing and image headers (a JPEG's EXIF block may precede its size)."""
TAIL_BYTES: Final = 64 * 1024
"""Kept from the end of a file: a ZIP's central directory, which names an Office document's parts."""
DELETE_FILES_JOB: Final = "chat.delete_files"
KEYS_PER_JOB: Final = 500

FileErrorCode = Literal[
    "file_too_large",
    "unsupported_file_type",
    "empty_file",
    "not_found",
    "invalid_attachment",
    "attachment_in_use",
]
_STATUS: Final[dict[str, int]] = {
    "file_too_large": 413,
    "unsupported_file_type": 415,
    "empty_file": 400,
    "not_found": 404,
    "invalid_attachment": 422,
    "attachment_in_use": 409,
}


class FileError(Exception):
    """A file rule said no. ``code`` is stable and documented; nothing was stored or written."""

    def __init__(self, code: FileErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    @property
    def status_code(self) -> int:
        """The HTTP status this refusal maps to."""
        return _STATUS[self.code]


def storage_key(tenant_id: UUID, attachment_id: UUID) -> str:
    """Where an attachment's bytes are kept: ``<tenant>/<attachment>`` (one folder per tenant)."""
    return f"{tenant_id}/{attachment_id}"


class _Inspection:
    """Watches an upload's bytes go by: counts and hashes them, keeps its head and tail, stops it early."""

    def __init__(self, *, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.size = 0
        self.sha256 = hashlib.sha256()
        self.head = bytearray()
        self.tail = bytearray()
        self._early_checked = False

    async def watch(self, chunks: AsyncIterable[bytes]) -> AsyncIterator[bytes]:
        """Pass ``chunks`` through; raise ``FileError`` as soon as the limit is passed or a program shows."""
        async for chunk in chunks:
            self.size += len(chunk)
            if self.size > self.max_bytes:
                raise FileError("file_too_large", f"Files may be at most {self.max_bytes} bytes.")
            # Hashing is CPU work of well under a millisecond per chunk; no I/O happens here.
            self.sha256.update(chunk)
            if len(self.head) < HEAD_BYTES:
                self.head += chunk[: HEAD_BYTES - len(self.head)]
            self.tail += chunk
            del self.tail[:-TAIL_BYTES]
            if not self._early_checked and len(self.head) >= EARLY_BYTES:
                self._refuse_programs()
            yield chunk
        self._refuse_programs()

    def _refuse_programs(self) -> None:
        self._early_checked = True
        reason = early_refusal(bytes(self.head))
        if reason:
            raise FileError("unsupported_file_type", f"This file is {reason}; it cannot be shared.")


async def upload_file(
    *,
    db: Database,
    storage: FileStorage,
    tenant_id: UUID,
    uploader_id: UUID,
    filename: str,
    chunks: AsyncIterable[bytes],
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> Attachment:
    """Store an upload's bytes and its row, both or neither.

    The bytes are streamed to storage while being measured; the row is committed in its own
    transaction afterwards. Whatever fails (limit, type, client gone, database), the stored bytes
    are removed before the error propagates.

    Raises:
        FileError: ``file_too_large``, ``unsupported_file_type`` or ``empty_file``.
    """
    if refused_extension(filename):
        raise FileError("unsupported_file_type", "Programs and web pages cannot be shared.")
    attachment_id = uuid7()
    key = storage_key(tenant_id, attachment_id)
    inspection = _Inspection(max_bytes=max_bytes)
    stored = False
    try:
        await storage.save(key, inspection.watch(chunks))
        stored = True
        if inspection.size == 0:
            raise FileError("empty_file", "The file is empty.")
        head = bytes(inspection.head)
        kind = sniff(head, bytes(inspection.tail), size=inspection.size, filename=filename)
        if kind is None:
            raise FileError("unsupported_file_type", "This kind of file cannot be shared.")
        dimensions = image_size(kind, head) if kind.is_image else None
        width, height = dimensions if dimensions else (None, None)
        async with db.transaction(tenant_id=tenant_id) as session:
            attachment = Attachment(
                id=attachment_id,
                tenant_id=tenant_id,
                uploader_id=uploader_id,
                filename=safe_filename(filename, kind),
                content_type=kind.content_type,
                size=inspection.size,
                sha256=inspection.sha256.hexdigest(),
                width=width,
                height=height,
                storage_key=key,
            )
            session.add(attachment)
    except BaseException:
        if stored:
            with anyio.CancelScope(shield=True):
                await storage.delete(key)
        raise
    return attachment


async def readable_attachment(session: AsyncSession, *, attachment_id: UUID, user_id: UUID) -> Attachment:
    """The attachment, if ``user_id`` may read it.

    Shared files are readable by the members of the conversation they were shared in, as long as
    their message is not deleted, and while moderation holds or hides it by its author only; an
    upload not yet shared only by its uploader. Row-level security hides other tenants' files.

    Raises:
        FileError: ``not_found`` for a file that does not exist or that the user may not read
            (the two are indistinguishable on purpose).
    """
    attachment = await session.get(Attachment, attachment_id)
    if attachment is None or not await _may_read(session, attachment, user_id):
        raise FileError("not_found", "No such file.")
    return attachment


async def _may_read(session: AsyncSession, attachment: Attachment, user_id: UUID) -> bool:
    if attachment.message_id is None:
        return attachment.uploader_id == user_id
    member = exists().where(
        ConversationMember.conversation_id == attachment.conversation_id, ConversationMember.user_id == user_id
    )
    live_message = exists().where(
        Message.id == attachment.message_id,
        Message.conversation_id == attachment.conversation_id,
        Message.deleted_at.is_(None),
    )
    # A held or hidden message's files stay with it: only its author may still fetch them (as only
    # the author still sees its text); moderators read them through their case.
    withheld = exists().where(MessageModeration.message_id == attachment.message_id)
    authored = exists().where(Message.id == attachment.message_id, Message.author_id == user_id)
    return bool(await session.scalar(select(member & live_message & (~withheld | authored))))


async def delete_upload(session: AsyncSession, *, tenant_id: UUID, attachment_id: UUID, user_id: UUID) -> str:
    """Delete one's own upload before it is shared; its bytes are deleted by a job committed with the row.

    Returns:
        The storage key, so the caller may also delete the bytes at once after commit.

    Raises:
        FileError: ``not_found`` (not the uploader's, or no such file), ``attachment_in_use``
            (already shared in a message).
    """
    attachment = await session.get(Attachment, attachment_id, with_for_update=True)
    if attachment is None or attachment.uploader_id != user_id:
        raise FileError("not_found", "No such file.")
    if attachment.message_id is not None:
        raise FileError("attachment_in_use", "The file is shared in a message; delete the message instead.")
    await session.delete(attachment)
    await schedule_file_deletion(session, tenant_id=tenant_id, keys=[attachment.storage_key])
    return attachment.storage_key


async def claim_attachments(
    session: AsyncSession,
    *,
    tenant_id: UUID,
    uploader_id: UUID,
    conversation_id: UUID,
    message_id: UUID,
    attachment_ids: Sequence[UUID],
) -> list[Attachment]:
    """Link uploads to the message being sent, in the sender's transaction.

    Each id must name an upload of ``uploader_id`` not linked to any message yet. The rows are
    locked, so the orphan cleanup or a concurrent send cannot take the same upload.

    Returns:
        The attachments, in the order of ``attachment_ids``.

    Raises:
        FileError: ``invalid_attachment`` naming what is wrong; nothing is linked.
    """
    wanted = list(dict.fromkeys(attachment_ids))
    if len(wanted) > MAX_PER_MESSAGE:
        raise FileError("invalid_attachment", f"A message carries at most {MAX_PER_MESSAGE} files.")
    if not wanted:
        return []
    rows = await session.scalars(
        select(Attachment)
        .where(Attachment.tenant_id == tenant_id, Attachment.id.in_(wanted))
        .order_by(Attachment.id)
        .with_for_update()
    )
    found = {row.id: row for row in rows}
    for attachment_id in wanted:
        row = found.get(attachment_id)
        if row is None or row.uploader_id != uploader_id:
            raise FileError("invalid_attachment", f"No upload of yours with id {attachment_id}.")
        if row.message_id is not None:
            raise FileError("invalid_attachment", f"The upload {attachment_id} is already shared.")
    for row in found.values():
        row.message_id = message_id
        row.conversation_id = conversation_id
    await session.flush()
    return [found[attachment_id] for attachment_id in wanted]


async def release_message_files(session: AsyncSession, *, tenant_id: UUID, message_ids: Iterable[UUID]) -> int:
    """Delete the files of deleted messages (rows now, bytes by a job committed with them).

    For the message delete path: a tombstone keeps no content, files included.

    Returns:
        How many files were released.
    """
    ids = list(message_ids)
    if not ids:
        return 0
    keys = list(
        await session.scalars(
            delete(Attachment).where(Attachment.message_id.in_(ids)).returning(Attachment.storage_key)
        )
    )
    await schedule_file_deletion(session, tenant_id=tenant_id, keys=keys)
    return len(keys)


async def schedule_file_deletion(session: AsyncSession, *, tenant_id: UUID, keys: Sequence[str]) -> None:
    """Enqueue the deletion of stored bytes in the caller's transaction (outbox).

    Rows go first, bytes after commit: if the transaction rolls back, no file was lost; if a
    deletion fails, the job retries it.
    """
    for start in range(0, len(keys), KEYS_PER_JOB):
        await enqueue(
            session,
            tenant_id=tenant_id,
            kind=DELETE_FILES_JOB,
            payload={"keys": list(keys[start : start + KEYS_PER_JOB])},
        )
