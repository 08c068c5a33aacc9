"""Request and response bodies of the file and retention routes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

import msgspec

from api.schemas import RequestBody, ResponseBody
from channels.retention import RetentionPeriods
from persistence.models import Attachment

Days = Annotated[int, msgspec.Meta(ge=1, le=36_500, description="Days to keep; null keeps forever.")]


class AttachmentResponse(ResponseBody):
    """An uploaded file: what its bytes are (sniffed by the server) and where it was shared."""

    id: UUID
    filename: str
    content_type: str
    size: int
    sha256: str
    uploader_id: UUID | None
    created_at: datetime
    width: int | None = None
    height: int | None = None
    conversation_id: UUID | None = None
    message_id: UUID | None = None


def attachment_response(attachment: Attachment) -> AttachmentResponse:
    return AttachmentResponse(
        id=attachment.id,
        filename=attachment.filename,
        content_type=attachment.content_type,
        size=attachment.size,
        sha256=attachment.sha256,
        uploader_id=attachment.uploader_id,
        created_at=attachment.created_at,
        width=attachment.width,
        height=attachment.height,
        conversation_id=attachment.conversation_id,
        message_id=attachment.message_id,
    )


class RetentionUpdate(RequestBody):
    """The tenant's retention periods; both are replaced (null: keep forever)."""

    message_days: Days | None
    file_days: Days | None

    def periods(self) -> RetentionPeriods:
        return RetentionPeriods(message_days=self.message_days, file_days=self.file_days)


class RetentionResponse(ResponseBody):
    message_days: int | None
    file_days: int | None

    @classmethod
    def of(cls, periods: RetentionPeriods) -> RetentionResponse:
        return cls(message_days=periods.message_days, file_days=periods.file_days)
