"""The subject registry: which domain function follows the final decision on requests of each kind.

A domain (leave, overtime, ...) registers ``on_decided`` for its kind once at import or start-up; the
engine calls it in the transaction that ends the request, so the domain object and the request can
never disagree. A kind with no handler (a custom kind posted by an integration) simply has none.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal, Protocol

from sqlalchemy import select

from api.errors import AppError
from api.workplaces.base import utc_now

if TYPE_CHECKING:
    from uuid import UUID

    from sqlalchemy.ext.asyncio import AsyncSession

Outcome = Literal["approved", "rejected", "cancelled", "expired"]
STATUS_OF: dict[str, str] = {
    "approved": "approved",
    "rejected": "rejected",
    "cancelled": "cancelled",
    "expired": "cancelled",
}
"""An approval's outcome and the status it gives the subject: an expired approval withdraws it."""


class SubjectHandler(Protocol):
    """Moves the domain object ``request_id`` (the approval request's ``subject_id``: a leave request, say)
    to ``outcome``, in the caller's transaction; raising rolls the decision back."""

    async def __call__(
        self, session: AsyncSession, *, request_id: UUID, outcome: Outcome, decided_by: UUID | None
    ) -> None: ...


_handlers: dict[str, SubjectHandler] = {}


def register_subject(kind: str, on_decided: SubjectHandler) -> None:
    """Make ``on_decided`` follow the final decision on requests of ``kind`` (replacing any before)."""
    _handlers[kind] = on_decided


def unregister_subject(kind: str) -> None:
    """Forget the handler of ``kind`` (tests register their own and clean up)."""
    _handlers.pop(kind, None)


def subject_handler(kind: str) -> SubjectHandler | None:
    return _handlers.get(kind)


async def settle_pending(
    session: AsyncSession,
    model: Any,
    *,
    request_id: UUID,
    outcome: Outcome,
    decided_by: UUID | None,
    missing: str,
    decided: str,
) -> Any | None:
    """Lock pending subject ``request_id`` of ``model`` and give it the status of ``outcome``, flushed; the row,
    or ``None`` when the same outcome was applied already (so a repeated decision changes nothing).

    ``missing`` and ``decided`` are the messages of the two errors. The caller audits and notifies.

    Raises:
        AppError: ``not_found`` (404); ``not_pending`` (409) when it was already given another status.
    """
    row = await session.scalar(select(model).where(model.id == request_id).with_for_update())
    if row is None:
        raise AppError("not_found", missing, status_code=404, details={"field": "request_id"})
    status = STATUS_OF[outcome]
    if row.status == status and row.decided_at is not None:
        return None
    if row.status != "pending":
        raise AppError("not_pending", decided, status_code=409, details={"status": row.status})
    row.status, row.decided_by, row.decided_at = status, decided_by, utc_now()
    await session.flush()
    return row
