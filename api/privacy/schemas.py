"""Bodies of the privacy endpoints: exports, erasure reports, and the tenant's privacy policy."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from api.privacy.policy import PrivacyPolicy, Retention
from api.schemas import ResponseBody

__all__ = ["ErasureResponse", "ExportResponse", "PrivacyPolicy", "Retention"]


class ExportResponse(ResponseBody):
    """A data export; ``download_url`` (a signed link, valid until ``expires_at``) once it is ready."""

    id: UUID
    user_id: UUID
    status: str
    created_at: datetime
    requested_by: UUID | None = None
    ready_at: datetime | None = None
    expires_at: datetime | None = None
    size: int | None = None
    download_url: str | None = None


class ErasureResponse(ResponseBody):
    """What erasing a person changed: rows per table, files deleted, audit entries pseudonymised."""

    user_id: UUID
    messages: str
    rows: dict[str, int]
    files_deleted: int
    audit_entries: int
    sessions_revoked: int
