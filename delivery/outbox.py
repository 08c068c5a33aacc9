"""The delivery jobs a notification writes in the caller's transaction: their kinds, payloads and keys."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import msgspec

PUSH_JOB = "notification.push"
EMAIL_NOTIFICATION_JOB = "notification.email"
DIGEST_JOB = "notification.digest"
DISMISS_JOB = "notification.dismiss"


class NotificationJob(msgspec.Struct, frozen=True, kw_only=True):
    """Payload of a push, email or dismiss job: the notification it is about."""

    notification_id: UUID


class DigestJob(msgspec.Struct, frozen=True, kw_only=True):
    """Payload of a digest job: one user's low-priority mail of one window."""

    user_id: UUID
    window_end: datetime


def job_key(kind: str, notification_id: UUID) -> str:
    """The idempotency key of a notification's job: one push and one email per notification, ever."""
    return f"{kind}:{notification_id}"
