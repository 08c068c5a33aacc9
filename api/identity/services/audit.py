"""Reading the tenant's audit trail (written by :func:`api.audit.record`, never here): search pages and CSV export."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final
from uuid import UUID

import msgspec
from advanced_alchemy.filters import OrderBy
from advanced_alchemy.repository import SQLAlchemyAsyncRepository
from sqlalchemy import select

from api.errors import AppError
from api.identity.services._base import IdentityService
from persistence.models import AuditEvent

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from sqlalchemy import ColumnElement

    from persistence.engine import Database

CSV_BATCH: Final = 1000
CSV_COLUMNS: Final = (
    "seq",
    "occurred_at",
    "actor_user_id",
    "action",
    "outcome",
    "target_type",
    "target_id",
    "ip",
    "user_agent",
    "request_id",
    "details",
    "hash",
)


class AuditQuery(msgspec.Struct, frozen=True, kw_only=True):
    """Filters of an audit search; every one given must match.

    ``action`` is exact, or a prefix when it ends with ``*`` (``moderation.*``).
    ``since`` is inclusive, ``until`` exclusive.
    """

    action: str | None = None
    actor_user_id: UUID | None = None
    target_type: str | None = None
    target_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def conditions(self) -> list[ColumnElement[bool]]:
        """The query as SQL conditions on ``audit_event``.

        Raises:
            AppError: ``invalid_range`` (400) when ``until`` is not after ``since``.
        """
        if self.since is not None and self.until is not None and self.until <= self.since:
            raise AppError("invalid_range", "`until` must be after `since`.", details={"field": "until"})
        where: list[ColumnElement[bool]] = []
        if self.action is not None:
            if self.action.endswith("*"):
                prefix = self.action[:-1].replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
                where.append(AuditEvent.action.like(f"{prefix}%", escape="\\"))
            else:
                where.append(AuditEvent.action == self.action)
        if self.actor_user_id is not None:
            where.append(AuditEvent.actor_user_id == self.actor_user_id)
        if self.target_type is not None:
            where.append(AuditEvent.target_type == self.target_type)
        if self.target_id is not None:
            where.append(AuditEvent.target_id == self.target_id)
        if self.since is not None:
            where.append(AuditEvent.occurred_at >= self.since)
        if self.until is not None:
            where.append(AuditEvent.occurred_at < self.until)
        return where


class AuditService(IdentityService[AuditEvent]):
    """Reads the tenant's audit trail (written by :func:`api.audit.record`, never here)."""

    class Repo(SQLAlchemyAsyncRepository[AuditEvent]):
        model_type = AuditEvent

    repository_type = Repo

    async def page(self, query: AuditQuery, *, limit: int, offset: int) -> tuple[Sequence[AuditEvent], int]:
        """One page of the events matching ``query``, newest (highest ``seq``) first."""
        return await self.page_of(query.conditions(), limit=limit, offset=offset, order=[OrderBy("seq", "desc")])


async def csv_lines(db: Database, *, tenant_id: UUID, query: AuditQuery) -> AsyncIterator[bytes]:
    """The events matching ``query``, oldest first, as CSV: a header, then one chunk per batch of rows.

    Each batch is read in its own short transaction (keyset on ``seq``), so an export of any size
    holds no transaction open while the client downloads it.
    """
    conditions = query.conditions()
    yield _csv([CSV_COLUMNS])
    after = 0
    while True:
        async with db.transaction(tenant_id=tenant_id) as session:
            rows = list(
                await session.scalars(
                    select(AuditEvent)
                    .where(*conditions, AuditEvent.seq > after)
                    .order_by(AuditEvent.seq)
                    .limit(CSV_BATCH)
                )
            )
        if not rows:
            return
        yield _csv(_csv_row(event) for event in rows)
        after = rows[-1].seq


def _csv_row(event: AuditEvent) -> list[Any]:
    return [
        event.seq,
        event.occurred_at.isoformat(),
        event.actor_user_id or "",
        event.action,
        event.outcome,
        event.target_type or "",
        event.target_id or "",
        event.ip or "",
        event.user_agent or "",
        event.request_id or "",
        json.dumps(event.details, sort_keys=True, default=str),
        event.hash.hex(),
    ]


def _csv(rows: Any) -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue().encode()
