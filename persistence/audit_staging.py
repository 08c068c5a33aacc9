"""Audit entries staged on a session and written with one prepared ``INSERT`` before its next statement or commit.

An entry added to the ORM's unit of work cost more CPU than the rest of a busy request's statements
(docs/benchmarks.md, "Field operations API"); staged, it is sealed as the ORM hook seals one
(:func:`persistence.audit_chain.sealed_personal`) and linked after commit the same way.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from sqlalchemy import bindparam, event, insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.util import await_only
from uuid_utils.compat import uuid7

from persistence.audit_chain import link_pending, sealed_personal
from persistence.audit_link import link_soon
from persistence.models import AuditEvent
from persistence.models.privacy import note_audited_tenant
from persistence.prepared import DriverTransaction, Prepared, driver_of

if TYPE_CHECKING:
    from sqlalchemy.orm import ORMExecuteState, Session, SessionTransaction

__all__ = ["link_audit_now", "stage_entry"]

_STAGED = "fieldhub.audit_staged"
_TENANTS = "fieldhub.audit_staged_tenants"
# What a new entry is given: not its place in the chain (the linker's), nor what erasure sets later.
_LATER = frozenset({"seq", "prev_hash", "hash", "pseudonymised_by", "sa_orm_sentinel"})
_COLUMNS = tuple(column.name for column in AuditEvent.__table__.columns if column.name not in _LATER)
_INSERT = Prepared(insert(AuditEvent).values({name: bindparam(name) for name in _COLUMNS}))


def stage_entry(
    session: AsyncSession | DriverTransaction,
    *,
    tenant_id: UUID,
    occurred_at: datetime,
    actor_user_id: UUID | None,
    action: str,
    outcome: str,
    target_type: str | None,
    target_id: str | None,
    ip: str | None,
    user_agent: str | None,
    request_id: str | None,
    details: dict[str, Any] | None,
) -> None:
    """Write this entry with ``session``'s transaction, after its other changes; a rollback drops it.

    Only for a session outside a savepoint (an entry made inside one must roll back with it, so it goes
    through the ORM, ``session.add``), or a driver transaction.
    """
    stored, salt, digest = sealed_personal(details, ip=ip, user_agent=user_agent)
    row = {
        "id": uuid7(),
        "tenant_id": tenant_id,
        "occurred_at": occurred_at,
        "actor_user_id": actor_user_id,
        "action": action,
        "outcome": outcome,
        "target_type": target_type,
        "target_id": target_id,
        "ip": ip,
        "user_agent": user_agent,
        "request_id": request_id,
        "details": stored,
        "personal_salt": salt,
        "personal_digest": digest,
    }
    arguments = _INSERT.arguments(row)
    if isinstance(session, DriverTransaction):
        _stage_on_driver(session, arguments, tenant_id)
        return
    session.info.setdefault(_STAGED, []).append(arguments)
    note_audited_tenant(session.sync_session, tenant_id)


def _stage_on_driver(transaction: DriverTransaction, arguments: list[Any], tenant_id: UUID) -> None:
    staged: list[list[Any]] | None = transaction.info.get(_STAGED)
    if staged is None:
        staged = transaction.info[_STAGED] = []
        tenants: set[UUID] = set()
        transaction.info[_TENANTS] = tenants

        async def write() -> None:
            await transaction.driver.executemany(_INSERT.sql, staged)

        def link() -> None:
            for tenant in tenants:
                link_soon(transaction.engine, tenant)

        transaction.before_commit.append(write)
        transaction.after_commit.append(link)
    staged.append(arguments)
    transaction.info[_TENANTS].add(tenant_id)


async def link_audit_now(session: AsyncSession, tenant_id: UUID) -> None:
    """Link ``tenant_id``'s pending entries now, this transaction's own included, for a caller that needs
    their ``seq`` before commit (``session`` runs as that tenant). The transaction then holds the
    chain's head until it ends: the tenant's linkers wait for it, its writers do not."""
    await session.flush()
    await session.run_sync(_write)
    await link_pending(await session.connection(), tenant_id)


def _write(session: Session) -> None:
    rows: list[list[Any]] | None = session.info.pop(_STAGED, None)
    if not rows:
        return
    # The ORM's pending rows first: an entry may name a tenant created in this transaction.
    session.flush()
    await_only(driver_of(session).executemany(_INSERT.sql, rows))


@event.listens_for(AsyncSession.sync_session_class, "do_orm_execute")
def _write_before_statement(state: ORMExecuteState) -> None:
    # As autoflush writes pending objects before a query: the transaction's reads see its entries. With
    # pending objects of its own (a tenant the entry names, say), the session is left to its autoflush
    # and the entries wait for the next statement or the commit.
    session = state.session
    if session.info.get(_STAGED) and not session.new and not session.in_nested_transaction():
        _write(session)


@event.listens_for(AsyncSession.sync_session_class, "before_commit")
def _write_before_commit(session: Session) -> None:
    if not session.in_nested_transaction():
        _write(session)


@event.listens_for(AsyncSession.sync_session_class, "after_transaction_end")
def _drop_rolled_back(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        session.info.pop(_STAGED, None)
