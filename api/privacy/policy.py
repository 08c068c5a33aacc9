"""A tenant's privacy policy: what erasure does to messages, and how many days each domain's data is kept.

Messages and shared files keep their periods in chat's own policy (``channels.retention``), which
its sweep applies; this policy holds the other domains' and shows all of them in one place.
Defaults: tombstones, and every domain kept forever.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Final, Literal

import msgspec
from sqlalchemy import select

from channels.retention import RetentionPeriods, get_policy, set_policy
from persistence.models import PrivacySettings

if TYPE_CHECKING:
    from uuid import UUID

    from sqlalchemy.ext.asyncio import AsyncSession

MessageErasure = Literal["tombstone", "anonymise"]
Days = Annotated[int, msgspec.Meta(ge=1, le=36500, description="Days to keep; null keeps forever.")]
PRIVACY_DOMAINS: Final = ("attendance", "audit", "notifications")
"""Domains whose retention this policy holds (chat's messages and files are in chat's policy)."""


class Retention(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Days each domain's data is kept (null: forever)."""

    messages: Days | None = None
    """Chat messages, their edits, reactions and files."""
    files: Days | None = None
    """Files shared in chat, even while their message is kept."""
    attendance: Days | None = None
    """Closed attendance records (and their breaks), by clock-out."""
    audit: Days | None = None
    """Audit entries, oldest first (the hash chain keeps its base)."""
    notifications: Days | None = None
    """Read or archived notifications (unread ones stay until read)."""


class PrivacyPolicy(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The tenant's privacy policy."""

    message_erasure: MessageErasure = "tombstone"
    """What erasing a person does to their messages: ``tombstone`` blanks them, ``anonymise`` keeps the text."""
    retention: Retention = msgspec.field(default_factory=Retention)


async def load_policy(session: AsyncSession) -> PrivacyPolicy:
    """The current tenant's policy (the defaults where none was set)."""
    row = await session.scalar(select(PrivacySettings))
    chat = await get_policy(session)
    days = dict(row.retention_days) if row is not None else {}
    retention = Retention(
        messages=chat.message_days, files=chat.file_days, **{domain: days.get(domain) for domain in PRIVACY_DOMAINS}
    )
    erasure: MessageErasure = "anonymise" if row is not None and row.message_erasure == "anonymise" else "tombstone"
    return PrivacyPolicy(message_erasure=erasure, retention=retention)


async def save_policy(
    session: AsyncSession, *, tenant_id: UUID, policy: PrivacyPolicy, actor_id: UUID | None
) -> PrivacyPolicy:
    """Replace the tenant's policy; the next retention sweeps apply it."""
    row = await session.scalar(select(PrivacySettings).with_for_update())
    if row is None:
        row = PrivacySettings(tenant_id=tenant_id)
        session.add(row)
    row.message_erasure = policy.message_erasure
    row.retention_days = {domain: getattr(policy.retention, domain) for domain in PRIVACY_DOMAINS}
    row.updated_by = actor_id
    periods = RetentionPeriods(message_days=policy.retention.messages, file_days=policy.retention.files)
    await set_policy(session, tenant_id=tenant_id, periods=periods, actor_id=actor_id)
    return policy
