"""Action links: the signed, single-use, expiring Approve and Reject links an approval notification carries.

A link's token is signed (:mod:`delivery.signing`) and names the tenant, an :class:`ApprovalLink` row and
the decision. The row binds the link to one user and one request; using either link of a notification
marks the row, so every copy of that notification (inbox, push, email) is dead from then on.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Literal
from uuid import UUID

import msgspec
from sqlalchemy import select
from uuid_utils.compat import uuid7

from api.errors import AppError
from delivery.notify import Action
from delivery.signing import sign, verify
from persistence.models import ApprovalLink, User

if TYPE_CHECKING:
    from datetime import datetime

    from sqlalchemy.ext.asyncio import AsyncSession

    from persistence.engine import Database

LinkDecision = Literal["approve", "reject"]
ACTION_PATH = "/api/v1/approvals/actions/"
LINK_TTL = timedelta(days=7)
LABELS: dict[LinkDecision, str] = {"approve": "Approve", "reject": "Reject"}
_CONTEXT = b"fieldhub-approval-action-v1:"
_KEY_SLOT = "approvals.link_key"


class ActionGrant(msgspec.Struct, frozen=True, array_like=True):
    """What a signed action token says: in ``tenant_id``, use link ``link_id`` to ``decision``."""

    tenant_id: UUID
    link_id: UUID
    decision: LinkDecision


def install_action_links(db: Database, secret: str) -> None:
    """Let sessions of ``db`` sign action links with ``secret`` (the app and the worker call this once).

    Requests are submitted inside domain transactions that know nothing of settings, so the key
    travels with the database's sessions, as the inbox's publisher does.
    """
    db.session_info[_KEY_SLOT] = secret


def _secret(session: AsyncSession) -> str:
    secret = session.info.get(_KEY_SLOT)
    if not isinstance(secret, str) or not secret:
        raise RuntimeError("approval action links need a key: call install_action_links(db, secret) at start-up")
    return secret


async def issue_actions(
    session: AsyncSession, *, tenant_id: UUID, request_id: UUID, user_id: UUID, now: datetime, until: datetime
) -> list[Action]:
    """A new link row for ``user_id`` on ``request_id`` and its Approve and Reject actions.

    The links expire at ``until`` (the request's expiry) or after :data:`LINK_TTL`, whichever is first.
    """
    link = ApprovalLink(
        id=uuid7(),  # given here, not at flush: the actions need it now, the row can wait for the next flush
        tenant_id=tenant_id,
        request_id=request_id,
        user_id=user_id,
        created_at=now,
        expires_at=min(until, now + LINK_TTL),
    )
    session.add(link)
    secret = _secret(session)
    return [
        Action(
            id=decision,
            label=label,
            link=ACTION_PATH + sign(secret, _CONTEXT, ActionGrant(tenant_id, link.id, decision)),
        )
        for decision, label in LABELS.items()
    ]


def read_grant(secret: str, token: str) -> ActionGrant:
    """The grant of a genuine token.

    Raises:
        AppError: ``invalid_link`` (400) for a forged, altered or malformed token.
    """
    grant = verify(secret, _CONTEXT, token, ActionGrant)
    if grant is None:
        raise AppError("invalid_link", "This approval link is not valid.", status_code=400)
    return grant


async def open_link(session: AsyncSession, grant: ActionGrant, now: datetime, *, use: bool) -> ApprovalLink:
    """The link row of ``grant``, locked; marked used when ``use`` (it commits with the decision).

    Raises:
        AppError: ``invalid_link`` (400) when the row is gone or its user no longer active; ``link_used`` (410) once used;
            ``link_expired`` (410) past its expiry.
    """
    link = await session.scalar(
        select(ApprovalLink)
        .join(User, User.id == ApprovalLink.user_id)
        .where(ApprovalLink.id == grant.link_id, User.status == "active")
        .with_for_update(of=ApprovalLink)
    )
    if link is None:
        raise AppError("invalid_link", "This approval link is not valid.", status_code=400)
    if link.used_at is not None:
        raise AppError("link_used", "This approval link was used already.", status_code=410)
    if link.expires_at <= now:
        raise AppError("link_expired", "This approval link has expired; open the request in fieldhub.", status_code=410)
    if use:
        link.used_at = now
    return link
