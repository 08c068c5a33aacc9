"""Privacy tables: each tenant's audit chain head, its privacy policy (erasure, retention), and personal data exports.

Importing this module also hooks the audit chain onto ``audit_event`` inserts: every entry,
whoever writes it, joins its tenant's chain under the lock of the chain's head row, in the flush
that commits its transaction (so the tenant-wide lock is held for the last round trips only).
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from advanced_alchemy.types import DateTimeUTC
from sqlalchemy import BigInteger, ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint, event, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, Session, mapped_column
from uuid_utils.compat import uuid7

from persistence.audit_chain import GENESIS, canonical_details, entry_hash, personal_digest
from persistence.base import AuditedModel, Model, TenantScoped
from persistence.models.identity import AuditEvent

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection
    from sqlalchemy.ext.asyncio import AsyncSession
    from sqlalchemy.orm import Mapper, SessionTransaction, UOWTransaction


class AuditChain(TenantScoped, Model):
    """The head of a tenant's audit chain (locked by each append) and its base (moved by retention)."""

    __tablename__ = "audit_chain"
    __table_args__ = (UniqueConstraint("tenant_id", name="uq_audit_chain_tenant_id"),)

    head_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    head_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    base_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    """The last ``seq`` retention deleted (0: none); the first kept entry follows it."""
    base_hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class PrivacySettings(TenantScoped, AuditedModel):
    """A tenant's privacy policy: what erasure does to messages, and how long each domain's data is kept.

    At most one row per tenant; no row means the defaults (tombstones, everything kept forever).
    """

    __tablename__ = "privacy_settings"
    __table_args__ = (UniqueConstraint("tenant_id", name="uq_privacy_settings_tenant_id"),)

    message_erasure: Mapped[str] = mapped_column(String(16), default="tombstone")
    """``tombstone``: an erased person's messages lose their text; ``anonymise``: the text stays, unattributed."""
    retention_days: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    """Days to keep per domain (``{"attendance": 365}``); a domain not named is kept forever."""
    updated_by: Mapped[UUID | None] = mapped_column()


class PrivacyExport(TenantScoped, AuditedModel):
    """One person's data export: built by the worker into a zip, downloadable through a signed link until it expires."""

    __tablename__ = "privacy_export"
    __table_args__ = (Index("ix_privacy_export_user", "user_id"),)

    user_id: Mapped[UUID] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"))
    requested_by: Mapped[UUID | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(16), default="queued")
    """``queued``, ``ready`` or ``failed``."""
    storage_key: Mapped[str | None] = mapped_column(String(255))
    size: Mapped[int | None] = mapped_column(BigInteger)
    error: Mapped[str | None] = mapped_column(Text)
    ready_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    expires_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))


_ADVANCE_HEAD = text(
    "INSERT INTO audit_chain (id, tenant_id, head_seq, head_hash, base_seq, base_hash) "
    "VALUES (:id, :tenant, 0, :genesis, 0, :genesis) "
    # The no-op update takes the row lock: the next writer of this tenant waits for our commit.
    "ON CONFLICT (tenant_id) DO UPDATE SET head_seq = audit_chain.head_seq RETURNING head_seq, head_hash"
)
_SET_HEAD = text("UPDATE audit_chain SET head_seq = :seq, head_hash = :hash WHERE tenant_id = :tenant")


@event.listens_for(AuditEvent, "before_insert")
def _join_chain(mapper: Mapper[AuditEvent], connection: Connection, entry: AuditEvent) -> None:
    """Give ``entry`` its tenant's next ``seq`` and its hashes, inside the inserting transaction."""
    entry.id = entry.id or uuid7()
    entry.occurred_at = entry.occurred_at or datetime.now(UTC)
    entry.outcome = entry.outcome or "success"
    # Stored as hashed: what is read back is what the digest covers.
    entry.details = json.loads(canonical_details(entry.details))
    entry.personal_salt = os.urandom(16)
    entry.personal_digest = personal_digest(
        entry.personal_salt, ip=entry.ip, user_agent=entry.user_agent, details=entry.details
    )
    head_seq, head_hash = connection.execute(
        _ADVANCE_HEAD, {"id": uuid7(), "tenant": entry.tenant_id, "genesis": GENESIS}
    ).one()
    entry.seq, entry.prev_hash = head_seq + 1, bytes(head_hash)
    entry.hash = entry_hash(entry.prev_hash, {column: getattr(entry, column) for column in _HASHED})
    connection.execute(_SET_HEAD, {"seq": entry.seq, "hash": entry.hash, "tenant": entry.tenant_id})


_HASHED = (
    "tenant_id",
    "seq",
    "id",
    "occurred_at",
    "actor_user_id",
    "action",
    "outcome",
    "target_type",
    "target_id",
    "request_id",
    "personal_digest",
)


_HELD = "fieldhub.audit_held"
_LINKING = "fieldhub.audit_linking"


@event.listens_for(Session, "before_flush")
def _hold_audit_until_commit(session: Session, flush_context: UOWTransaction, instances: object) -> None:
    """Keep new audit entries out of flushes before the commit's own.

    Joining the chain locks the tenant's head row until commit: linked at the first flush, every
    audited write of a tenant would wait for the whole of the previous one (the bench.api profile:
    ~29 backends queued on that lock). Entries added under a savepoint are linked at once, so that a
    rolled-back savepoint takes its entries with it.
    """
    if session.info.get(_LINKING) or session.in_nested_transaction():
        return
    held = [entry for entry in session.new if isinstance(entry, AuditEvent)]
    for entry in held:
        session.expunge(entry)
    if held:
        session.info.setdefault(_HELD, []).extend(held)


@event.listens_for(Session, "before_commit")
def _link_held_audit(session: Session) -> None:
    """The commit's flush follows this hook: the held entries join the chain there, in order."""
    if session.in_nested_transaction():
        return
    _release_held(session)


def _release_held(session: Session) -> None:
    session.info[_LINKING] = True
    session.add_all(session.info.pop(_HELD, []))


async def link_audit_now(session: AsyncSession) -> None:
    """Join the entries added so far to the chain now, for a caller that needs their ``seq`` before
    commit. The transaction then holds the chain's lock until it ends, so later entries link at once."""
    _release_held(session.sync_session)
    await session.flush()


@event.listens_for(Session, "after_transaction_end")
def _forget_held_audit(session: Session, transaction: SessionTransaction) -> None:
    """A rolled-back transaction's held entries go with it; a committed one has none left."""
    if transaction.parent is None:
        session.info.pop(_HELD, None)
        session.info.pop(_LINKING, None)
