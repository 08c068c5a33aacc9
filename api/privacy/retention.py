"""The privacy retention sweep: per tenant, delete what its policy no longer keeps, batch by batch, and audit it.

Attendance (closed records, by clock-out, with their breaks), notifications (read or archived,
by creation; unread ones wait to be read so inbox counters stay true), audit entries (the
oldest prefix of the linked hash chain, through ``fieldhub_audit_prune``) and expired exports (rows
and zips). Chat's messages and files are swept by chat's own job (``channels.retention``).
Each batch is one transaction that records what it removed as a ``privacy.retention.swept``
audit entry.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Final

import msgspec
from sqlalchemy import Delete, delete, literal_column, select, text

from api.audit import Origin, record
from api.privacy.policy import load_policy
from channels.attachments import schedule_file_deletion
from persistence.models import AttendanceRecord, Notification, PrivacyExport

if TYPE_CHECKING:
    from uuid import UUID

    from sqlalchemy.ext.asyncio import AsyncSession

    from channels.storage import FileStorage
    from persistence.engine import Database

log = logging.getLogger("fieldhub.privacy.retention")

BATCH: Final = 2000
SWEEP_ACTION: Final = "privacy.retention.swept"


class RetentionReport(msgspec.Struct, kw_only=True):
    """What one sweep (or one batch of it) removed."""

    attendance_records: int = 0
    notifications: int = 0
    audit_entries: int = 0
    exports: int = 0

    @property
    def removed_anything(self) -> bool:
        return any(msgspec.structs.astuple(self))

    def add(self, other: RetentionReport) -> None:
        for field in self.__struct_fields__:
            setattr(self, field, getattr(self, field) + getattr(other, field))


async def sweep_privacy(
    *, db: Database, storage: FileStorage, tenant_id: UUID, now: datetime | None = None, batch: int = BATCH
) -> RetentionReport:
    """Apply the tenant's retention policy and drop expired exports. Idempotent; resumes where it stopped."""
    now = now or datetime.now(UTC)
    total = RetentionReport()
    while True:
        async with db.transaction(tenant_id=tenant_id) as session:
            report, keys, more = await _sweep_batch(session, now=now, batch=batch)
            if report.removed_anything:
                await schedule_file_deletion(session, tenant_id=tenant_id, keys=keys)
                record(
                    session,
                    tenant_id=tenant_id,
                    action=SWEEP_ACTION,
                    actor_user_id=None,
                    origin=Origin(),
                    target_type="tenant",
                    target_id=tenant_id,
                    details=msgspec.structs.asdict(report),
                )
        for key in keys:
            try:
                await storage.delete(key)
            except OSError:
                log.warning("could not delete an expired export; its deletion job will retry", extra={"key": key})
        total.add(report)
        if not more:
            return total


async def _sweep_batch(session: AsyncSession, *, now: datetime, batch: int) -> tuple[RetentionReport, list[str], bool]:
    """One bounded batch of every kind of removal: what it did, the storage keys freed, and whether more is due."""
    retention = (await load_policy(session)).retention
    report = RetentionReport()
    if retention.attendance is not None:
        cutoff = now - timedelta(days=retention.attendance)
        chosen = (
            select(AttendanceRecord.id)
            .where(AttendanceRecord.clock_out_at.is_not(None), AttendanceRecord.clock_out_at < cutoff)
            .limit(batch)
        )
        report.attendance_records = await _deleted(
            session, delete(AttendanceRecord).where(AttendanceRecord.id.in_(chosen))
        )
    if retention.notifications is not None:
        cutoff = now - timedelta(days=retention.notifications)
        chosen = (
            select(Notification.id)
            .where(Notification.created_at < cutoff, Notification.state.in_(("read", "archived")))
            .limit(batch)
        )
        report.notifications = await _deleted(session, delete(Notification).where(Notification.id.in_(chosen)))
    if retention.audit is not None:
        pruned = await session.scalar(
            text("SELECT fieldhub_audit_prune(:before, :limit)"),
            {"before": now - timedelta(days=retention.audit), "limit": batch},
        )
        report.audit_entries = int(pruned or 0)
    expired = select(PrivacyExport.id).where(PrivacyExport.expires_at < now).limit(batch)
    removed = (
        await session.execute(
            delete(PrivacyExport).where(PrivacyExport.id.in_(expired)).returning(PrivacyExport.storage_key)
        )
    ).all()
    report.exports = len(removed)
    more = batch in msgspec.structs.astuple(report)
    return report, [key for (key,) in removed if key], more


async def _deleted(session: AsyncSession, statement: Delete) -> int:
    return len((await session.execute(statement.returning(literal_column("1")))).all())
