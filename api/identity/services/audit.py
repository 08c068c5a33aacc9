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
from sqlalchemy import select, tuple_

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
        """One page of the events matching ``query``, newest first (by ``occurred_at``, then ``id``).

        Entries not yet linked to the chain (``seq`` NULL, normally for well under a second) are
        listed like the others; ``seq`` is not the order, because it is given after commit.
        """
        order = [OrderBy("occurred_at", "desc"), OrderBy("id", "desc")]
        return await self.page_of(query.conditions(), limit=limit, offset=offset, order=order)


async def csv_lines(db: Database, *, tenant_id: UUID, query: AuditQuery) -> AsyncIterator[bytes]:
    """The events matching ``query``, oldest first (``occurred_at``, then ``id``), as CSV: a header, then
    one chunk per batch of rows; an entry not linked yet has empty ``seq`` and ``hash``.

    Each batch is read in its own short transaction (keyset on ``(occurred_at, id)``), so an export
    of any size holds no transaction open while the client downloads it. An entry committed during
    the export with a time before the batch being read is not in it.
    """
    conditions = query.conditions()
    yield _csv([CSV_COLUMNS])
    after: tuple[datetime, UUID] | None = None
    while True:
        keyset = [] if after is None else [tuple_(AuditEvent.occurred_at, AuditEvent.id) > after]
        async with db.transaction(tenant_id=tenant_id) as session:
            rows = list(
                await session.scalars(
                    select(AuditEvent)
                    .where(*conditions, *keyset)
                    .order_by(AuditEvent.occurred_at, AuditEvent.id)
                    .limit(CSV_BATCH)
                )
            )
        if not rows:
            return
        yield _csv(_csv_row(event) for event in rows)
        after = (rows[-1].occurred_at, rows[-1].id)


def _csv_row(event: AuditEvent) -> list[Any]:
    return [
        event.seq if event.seq is not None else "",
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
        event.hash.hex() if event.hash is not None else "",
    ]


def _csv(rows: Any) -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue().encode()
