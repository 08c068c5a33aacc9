"""The subject registry: which domain function follows the final decision on requests of each kind.

A domain (leave, overtime, ...) registers ``on_decided`` for its kind once at import or start-up; the
engine calls it in the transaction that ends the request, so the domain object and the request can
never disagree. A kind with no handler (a custom kind posted by an integration) simply has none.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal, Protocol

if TYPE_CHECKING:
    from uuid import UUID

    from sqlalchemy.ext.asyncio import AsyncSession

Outcome = Literal["approved", "rejected", "cancelled", "expired"]


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
