"""The audit trail: append-only records of auth events and identity changes (who, what, when, from where)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

import msgspec
from sqlalchemy.ext.asyncio import AsyncSession

from api.logs import request_id_var
from persistence.audit_staging import stage_entry
from persistence.models import AuditEvent

if TYPE_CHECKING:
    from uuid import UUID

    from litestar.connection import ASGIConnection

    from persistence.prepared import DriverTransaction

Outcome = Literal["success", "failure"]


class Origin(msgspec.Struct, frozen=True):
    """Where a request came from, as the audit trail records it."""

    ip: str | None = None
    user_agent: str | None = None

    @classmethod
    def of(cls, connection: ASGIConnection[Any, Any, Any, Any]) -> Origin:
        client = connection.client
        return cls(
            ip=client.host if client else None,
            user_agent=(connection.headers.get("user-agent") or "")[:512] or None,
        )


def record(
    session: AsyncSession | DriverTransaction,
    *,
    tenant_id: UUID,
    action: str,
    actor_user_id: UUID | None,
    origin: Origin,
    outcome: Outcome = "success",
    target_type: str | None = None,
    target_id: UUID | str | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """Add an audit event to ``session``; it commits (or rolls back) with the change it describes."""
    entry: dict[str, Any] = {
        "tenant_id": tenant_id,
        "occurred_at": datetime.now(UTC),
        "actor_user_id": actor_user_id,
        "action": action,
        "outcome": outcome,
        "target_type": target_type,
        "target_id": str(target_id) if target_id is not None else None,
        "ip": origin.ip,
        "user_agent": origin.user_agent,
        "request_id": request_id_var.get(),
        "details": details or {},
    }
    if isinstance(session, AsyncSession) and session.in_nested_transaction():
        # A savepoint may roll back alone: the ORM's unit of work drops the entry with it.
        session.add(AuditEvent(**entry))
    else:
        stage_entry(session, **entry)
