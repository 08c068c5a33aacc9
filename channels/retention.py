"""Retention: a tenant's policy, and the sweep that deletes expired messages, files and never-shared uploads.

What the sweep removes, per tenant, in bounded batches (one transaction and one audit record each):

- **Uploads never shared**: files not linked to a message within ``orphan_after`` (a day).
- **Messages** older than the policy's ``message_days``, with their reactions, edit history,
  thread follows and files. A thread root older than the period whose thread still has replies
  within it is not deleted but reduced to a tombstone (``deleted_at`` set, text, mentions, links
  and files gone), as an author's delete leaves it, so the thread keeps its root. Roots that lose
  replies get their ``reply_count`` recounted.
- **Conversation events** older than the period: the log loses its oldest part, never a middle
  part, so what is left stays gap-free from its first ``seq`` up; a client resuming from before
  that first ``seq`` cannot be replayed to and reloads history instead. Events within the period
  that mention an expired message (an edit or reaction made later) are kept as they are.
- **Files** older than the policy's ``file_days``, even while their message is kept; the
  message's ``attachment_ids`` still name them and the file routes answer ``not_found``.

Rows go in the transaction, bytes after it commits (and by a job enqueued with the rows if that fails).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Final

import msgspec
from sqlalchemy import delete, exists, func, select, update
from sqlalchemy.orm import aliased

from channels.attachments import schedule_file_deletion
from persistence.models import (
    Attachment,
    AuditEvent,
    ChatRetentionPolicy,
    ConversationEvent,
    IncidentPhoto,
    Message,
    MessageEdit,
    Reaction,
    Task,
    TaskAttachment,
)

if TYPE_CHECKING:
    from uuid import UUID

    from sqlalchemy import ColumnElement
    from sqlalchemy.ext.asyncio import AsyncSession

    from channels.storage import FileStorage
    from persistence.engine import Database

__all__ = ["RetentionPeriods", "SweepReport", "get_policy", "set_policy", "sweep_tenant"]

log = logging.getLogger("fieldhub.chat.retention")

ORPHAN_AFTER: Final = timedelta(hours=24)
BATCH: Final = 2000
SWEEP_ACTION: Final = "chat.retention.swept"


class RetentionPeriods(msgspec.Struct, frozen=True, kw_only=True):
    """How long a tenant keeps chat: days, or None for forever."""

    message_days: int | None = None
    file_days: int | None = None


class SweepReport(msgspec.Struct, kw_only=True):
    """What one sweep (or one of its batches) removed."""

    uploads_expired: int = 0
    messages_deleted: int = 0
    messages_tombstoned: int = 0
    events_deleted: int = 0
    files_deleted: int = 0

    @property
    def removed_anything(self) -> bool:
        return any(msgspec.structs.astuple(self))

    def add(self, other: SweepReport) -> None:
        for field in self.__struct_fields__:
            setattr(self, field, getattr(self, field) + getattr(other, field))


async def get_policy(session: AsyncSession) -> RetentionPeriods:
    """The current tenant's periods (forever when none was ever set)."""
    row = await session.scalar(select(ChatRetentionPolicy))
    if row is None:
        return RetentionPeriods()
    return RetentionPeriods(message_days=row.message_days, file_days=row.file_days)


async def set_policy(
    session: AsyncSession, *, tenant_id: UUID, periods: RetentionPeriods, actor_id: UUID | None
) -> RetentionPeriods:
    """Replace the tenant's periods; the next sweep applies them."""
    row = await session.scalar(select(ChatRetentionPolicy).with_for_update())
    if row is None:
        row = ChatRetentionPolicy(tenant_id=tenant_id)
        session.add(row)
    row.message_days = periods.message_days
    row.file_days = periods.file_days
    row.updated_by = actor_id
    await session.flush()
    return periods


async def sweep_tenant(
    *,
    db: Database,
    storage: FileStorage,
    tenant_id: UUID,
    now: datetime | None = None,
    orphan_after: timedelta = ORPHAN_AFTER,
    batch: int = BATCH,
) -> SweepReport:
    """Apply the tenant's retention policy and expire never-shared uploads, batch by batch.

    Idempotent: a sweep interrupted anywhere leaves committed batches done and the rest for the
    next sweep.
    """
    now = now or datetime.now(UTC)
    total = SweepReport()
    while True:
        async with db.transaction(tenant_id=tenant_id) as session:
            periods = await get_policy(session)
            report, keys, more = await _sweep_batch(
                session, tenant_id=tenant_id, periods=periods, now=now, orphan_after=orphan_after, batch=batch
            )
            if report.removed_anything:
                await schedule_file_deletion(session, tenant_id=tenant_id, keys=keys)
                session.add(_audit(tenant_id, now=now, periods=periods, report=report))
        await _delete_now(storage, keys)
        total.add(report)
        if not more:
            return total


async def _sweep_batch(
    session: AsyncSession,
    *,
    tenant_id: UUID,
    periods: RetentionPeriods,
    now: datetime,
    orphan_after: timedelta,
    batch: int,
) -> tuple[SweepReport, list[str], bool]:
    """One bounded batch of every kind of removal. Returns what it did, the storage keys freed, and whether more is due."""
    report = SweepReport()
    keys: list[str] = []
    orphans = await _delete_attachments(
        session,
        Attachment.message_id.is_(None),
        Attachment.created_at < now - orphan_after,
        # A task's proof photo and files and an incident's photos are uploads no message shares; they are
        # kept while the task or incident points at them.
        ~exists().where(Task.photo_attachment_id == Attachment.id),
        ~exists().where(TaskAttachment.attachment_id == Attachment.id),
        ~exists().where(IncidentPhoto.attachment_id == Attachment.id),
        batch=batch,
    )
    report.uploads_expired = len(orphans)
    keys += orphans
    more = len(orphans) == batch
    if periods.message_days is not None:
        cutoff = now - timedelta(days=periods.message_days)
        deleted, tombstoned, message_keys = await _expire_messages(session, cutoff=cutoff, batch=batch)
        events = await _expire_events(session, cutoff=cutoff, batch=batch)
        report.messages_deleted, report.messages_tombstoned, report.events_deleted = deleted, tombstoned, events
        report.files_deleted += len(message_keys)
        keys += message_keys
        more = more or deleted + tombstoned == batch or events == batch
    if periods.file_days is not None:
        files = await _delete_attachments(
            session,
            Attachment.message_id.is_not(None),
            Attachment.created_at < now - timedelta(days=periods.file_days),
            batch=batch,
        )
        report.files_deleted += len(files)
        keys += files
        more = more or len(files) == batch
    return report, keys, more


async def _delete_attachments(session: AsyncSession, *conditions: ColumnElement[bool], batch: int) -> list[str]:
    chosen = select(Attachment.id).where(*conditions).limit(batch).with_for_update(skip_locked=True)
    return list(
        await session.scalars(delete(Attachment).where(Attachment.id.in_(chosen)).returning(Attachment.storage_key))
    )


async def _expire_messages(session: AsyncSession, *, cutoff: datetime, batch: int) -> tuple[int, int, list[str]]:
    """Delete up to ``batch`` messages from before ``cutoff``; tombstone roots of threads still alive."""
    reply = aliased(Message)
    live_reply = exists().where(reply.thread_root_id == Message.id, reply.created_at >= cutoff)
    already_tombstone = Message.deleted_at.is_not(None) & (Message.body == "")
    expired = list(
        await session.execute(
            select(Message.id, live_reply)
            .where(Message.created_at < cutoff, ~(already_tombstone & live_reply))
            .order_by(Message.created_at)
            .limit(batch)
            .with_for_update(of=Message, skip_locked=True)
        )
    )
    keep = [row[0] for row in expired if row[1]]
    doomed_roots = [row[0] for row in expired if not row[1]]
    # Replies of a doomed root are older than the cutoff too (no live reply); the foreign key
    # would cascade them, so their files are collected with them.
    doomed = select(Message.id).where((Message.id.in_(doomed_roots)) | (Message.thread_root_id.in_(doomed_roots)))
    keys = list(
        await session.scalars(
            delete(Attachment)
            .where(Attachment.message_id.in_(doomed) | Attachment.message_id.in_(keep))
            .returning(Attachment.storage_key)
        )
    )
    if keep:
        await session.execute(delete(Reaction).where(Reaction.message_id.in_(keep)))
        await session.execute(delete(MessageEdit).where(MessageEdit.message_id.in_(keep)))
        await session.execute(
            update(Message)
            .where(Message.id.in_(keep))
            .values(
                body="",
                mentions=[],
                links=[],
                attachment_ids=[],
                mention_here=False,
                mention_channel=False,
                deleted_at=func.coalesce(Message.deleted_at, func.now()),
            )
        )
    removed = list(
        await session.execute(
            delete(Message).where(Message.id.in_(doomed)).returning(Message.id, Message.thread_root_id)
        )
    )
    removed_ids = {row[0] for row in removed}
    roots = {row[1] for row in removed if row[1] is not None} - removed_ids
    if roots:
        counted = aliased(Message)
        await session.execute(
            update(Message)
            .where(Message.id.in_(roots))
            .values(
                reply_count=select(func.count())
                .select_from(counted)
                .where(counted.thread_root_id == Message.id)
                .scalar_subquery()
            )
        )
    return len(removed), len(keep), keys


async def _expire_events(session: AsyncSession, *, cutoff: datetime, batch: int) -> int:
    chosen = select(ConversationEvent.id).where(ConversationEvent.created_at < cutoff).limit(batch)
    result = await session.execute(
        delete(ConversationEvent).where(ConversationEvent.id.in_(chosen)).returning(ConversationEvent.id)
    )
    return len(result.all())


def _audit(tenant_id: UUID, *, now: datetime, periods: RetentionPeriods, report: SweepReport) -> AuditEvent:
    return AuditEvent(
        tenant_id=tenant_id,
        occurred_at=now,
        actor_user_id=None,
        action=SWEEP_ACTION,
        outcome="success",
        target_type="tenant",
        target_id=str(tenant_id),
        details={**msgspec.structs.asdict(report), **msgspec.structs.asdict(periods)},
    )


async def _delete_now(storage: FileStorage, keys: list[str]) -> None:
    """Delete freed bytes right after commit; a failure is left to the job enqueued with the rows."""
    for key in keys:
        try:
            await storage.delete(key)
        except OSError:
            log.warning("could not delete a stored file; its deletion job will retry", extra={"key": key})
