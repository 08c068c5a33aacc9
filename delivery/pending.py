"""What a batch of push or email jobs reads: notifications, their deliveries, push subscriptions, as plain rows.

Column selects into small frozen Structs rather than ORM objects: a batch reads dozens of rows that
nothing modifies through the session, and building mapped instances cost the worker more than the
database's work did.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

import msgspec
from sqlalchemy import Uuid, any_, bindparam, select
from sqlalchemy.dialects.postgresql import ARRAY

from persistence.models import Notification, NotificationDelivery, PushSubscription

if TYPE_CHECKING:
    from collections.abc import Iterable

    from sqlalchemy.ext.asyncio import AsyncSession


class PendingNote(msgspec.Struct, frozen=True, kw_only=True):
    """The fields of a notification that a push or a mail carries or is decided on."""

    id: UUID
    user_id: UUID
    category: str
    priority: str
    title: str
    body: str
    link: str | None
    actions: list[dict[str, Any]]
    state: str


class PendingDelivery(msgspec.Struct, frozen=True, kw_only=True):
    """A notification's delivery on one channel: its status and attempt log so far."""

    id: UUID
    status: str
    log: list[dict[str, Any]]


class PushTarget(msgspec.Struct, frozen=True, kw_only=True):
    """One push subscription of a user."""

    id: UUID
    user_id: UUID
    endpoint: str
    p256dh: str
    auth: str
    last_success_at: datetime | None


_NOTE = [getattr(Notification, name) for name in PendingNote.__struct_fields__]
_IDS = ARRAY(Uuid())
"""Ids travel as one array (``= ANY($1)``), not an ``IN`` list: one statement text whatever the
batch size, so each connection prepares it once."""
_TARGET = [getattr(PushSubscription, name) for name in PushTarget.__struct_fields__]


async def load_pending(
    session: AsyncSession, notification_ids: Iterable[UUID], channel: str
) -> dict[UUID, tuple[PendingNote, PendingDelivery]]:
    """The notifications of ``notification_ids`` with their ``channel`` delivery, by notification id
    (one is missing when either no longer exists)."""
    d = NotificationDelivery
    rows = await session.execute(
        select(*_NOTE, d.id.label("d_id"), d.status.label("d_status"), d.log.label("d_log"))
        .join(d, d.notification_id == Notification.id)
        .where(Notification.id == any_(bindparam("ids", list(notification_ids), type_=_IDS)), d.channel == channel)
    )
    pending: dict[UUID, tuple[PendingNote, PendingDelivery]] = {}
    for row in rows:
        values = row._asdict()
        delivery = PendingDelivery(id=values.pop("d_id"), status=values.pop("d_status"), log=values.pop("d_log"))
        pending[row.id] = (PendingNote(**values), delivery)
    return pending


async def load_targets(session: AsyncSession, user_ids: Iterable[UUID]) -> dict[UUID, list[PushTarget]]:
    """Every push subscription of ``user_ids``, by user."""
    targets: dict[UUID, list[PushTarget]] = {}
    users = bindparam("users", list(user_ids), type_=_IDS)
    rows = await session.execute(select(*_TARGET).where(PushSubscription.user_id == any_(users)))
    for row in rows:
        targets.setdefault(row.user_id, []).append(PushTarget(**row._asdict()))
    return targets
