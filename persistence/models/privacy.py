"""Privacy tables: each tenant's audit chain head, its privacy policy (erasure, retention), and personal data exports.

Importing this module also hooks the audit chain onto ``audit_event`` inserts: every entry, whoever
writes it, is inserted unlinked with its personal digest, and once its transaction has committed a
task of the committing process links it to its tenant's chain (``persistence.audit_link``), so no
writer waits for another's commit.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from advanced_alchemy.types import DateTimeUTC
from sqlalchemy import BigInteger, ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint, event
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, async_session
from sqlalchemy.orm import Mapped, Session, mapped_column
from uuid_utils.compat import uuid7

from persistence.audit_chain import sealed_personal
from persistence.audit_link import link_soon
from persistence.base import AuditedModel, Model, TenantScoped
from persistence.models.identity import AuditEvent

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection
    from sqlalchemy.orm import Mapper, SessionTransaction, UOWTransaction


class AuditChain(TenantScoped, Model):
    """The head of a tenant's audit chain (moved by ``fieldhub_audit_link`` only) and its base (moved by retention)."""

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


_TENANTS_WRITTEN = "fieldhub.audit_tenants"


@event.listens_for(AuditEvent, "before_insert")
def _seal_entry(mapper: Mapper[AuditEvent], connection: Connection, entry: AuditEvent) -> None:
    """Fill in what the chain will hash of ``entry`` but its place (``seq``, ``prev_hash``, ``hash``: the linker's)."""
    entry.id = entry.id or uuid7()
    entry.occurred_at = entry.occurred_at or datetime.now(UTC)
    entry.outcome = entry.outcome or "success"
    entry.details, entry.personal_salt, entry.personal_digest = sealed_personal(
        entry.details, ip=entry.ip, user_agent=entry.user_agent
    )


def note_audited_tenant(session: Session, tenant_id: UUID) -> None:
    """Link ``tenant_id``'s entries once ``session``'s transaction commits (an entry written without the ORM)."""
    session.info.setdefault(_TENANTS_WRITTEN, set()).add(tenant_id)


@event.listens_for(Session, "before_flush")
def _note_audited_tenants(session: Session, flush_context: UOWTransaction, instances: object) -> None:
    for entry in session.new:
        if isinstance(entry, AuditEvent):
            note_audited_tenant(session, entry.tenant_id)


@event.listens_for(Session, "after_commit")
def _link_after_commit(session: Session) -> None:
    """The committed entries join their chains in a task of this process (``persistence.audit_link``)."""
    tenants: set[UUID] = session.info.pop(_TENANTS_WRITTEN, set())
    if not tenants:
        return
    proxy = async_session(session)
    bind = proxy.bind if proxy is not None else None
    engine = bind.engine if isinstance(bind, AsyncConnection) else bind
    if not isinstance(engine, AsyncEngine):
        return  # a synchronous session: the worker's sweep links its entries
    for tenant_id in tenants:
        link_soon(engine, tenant_id)


@event.listens_for(Session, "after_transaction_end")
def _forget_audited_tenants(session: Session, transaction: SessionTransaction) -> None:
    """A rolled-back transaction's entries are gone: nothing to link."""
    if transaction.parent is None:
        session.info.pop(_TENANTS_WRITTEN, None)
