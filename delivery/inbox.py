"""The in-app inbox: a gap-free per-user event log with counts, and the publications sent after commit.

Every change to a user's inbox takes the next ``seq`` from the user's ``notification_inbox`` row
(the row lock orders concurrent writers, and a rolled-back transaction gives its number back), stores
the event, and queues it on the session. Only when that transaction commits is the event published
on ``t:<tenant>:inbox:<user>``; a client that missed it resumes from Postgres through the replay
provider (:mod:`delivery.live`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

import msgspec
from sqlalchemy import BigInteger, Integer, bindparam, event, func, literal, select
from sqlalchemy.dialects.postgresql import UUID as PG_UUID
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from uuid_utils.compat import uuid7

from delivery.outbox import insert_rows, table_of
from persistence.models import InboxEvent, Notification, NotificationInbox
from persistence.prepared import UUIDS, Prepared

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from persistence.engine import Database

log = logging.getLogger("fieldhub.inbox")

Publisher = Callable[[str, bytes, int], Awaitable[None]]
"""``publish(topic, payload, seq)``: the hub's durable publish."""

_PENDING_KEY = "fieldhub.inbox_pending"
_in_flight: set[asyncio.Task[None]] = set()


class Counts(msgspec.Struct, frozen=True):
    unread: int
    unseen: int


def inbox_topic(tenant_id: UUID | str, user_id: UUID | str) -> str:
    """The durable topic of a user's inbox: ``t:<tenant>:inbox:<user>``."""
    return f"t:{tenant_id}:inbox:{user_id}"


PUBLISHER_KEY = "fieldhub.inbox_publisher"


def set_publisher(db: Database, publisher: Publisher | None) -> None:
    """Publish inbox events committed through ``db``'s sessions with ``publisher`` (``None``: store only)."""
    if publisher is None:
        db.session_info.pop(PUBLISHER_KEY, None)
    else:
        db.session_info[PUBLISHER_KEY] = publisher


async def append_event(session: AsyncSession, *, tenant_id: UUID, user_id: UUID, body: dict[str, Any]) -> int:
    """Store the next event of the user's inbox, with its ``counts`` read back from the notifications after
    a change of their states, and queue it for publication after commit.

    Returns:
        The event's ``seq``.
    """
    counts = await count_states(session, user_id)
    row = await _SET_COUNTS.first(
        session, id=uuid7(), tenant_id=tenant_id, user_id=user_id, unread=counts.unread, unseen=counts.unseen
    )
    assert row is not None  # an upsert answers with its row
    seq, unread, unseen = row
    payload = msgspec.json.encode({**body, "counts": Counts(unread=max(unread, 0), unseen=max(unseen, 0))})
    session.add(InboxEvent(tenant_id=tenant_id, user_id=user_id, seq=seq, payload=payload, occurred_at=_now()))
    pending: list[tuple[str, bytes, int]] = session.info.setdefault(_PENDING_KEY, [])
    pending.append((inbox_topic(tenant_id, user_id), payload, seq))
    return int(seq)


def _set_counts() -> Prepared:
    given: dict[str, Any] = {name: bindparam(name) for name in ("id", "tenant_id", "user_id", "unread", "unseen")}
    statement = insert(NotificationInbox).values({**given, "seq": literal(1, BigInteger)})
    return Prepared(
        statement.on_conflict_do_update(
            index_elements=["user_id"],
            set_={
                "seq": NotificationInbox.seq + 1,
                "unread": statement.excluded.unread,
                "unseen": statement.excluded.unseen,
            },
        ).returning(NotificationInbox.seq, NotificationInbox.unread, NotificationInbox.unseen)
    )


_SET_COUNTS = _set_counts()
"""The next ``seq`` of a user's inbox and its counts (its row created where missing). Prepared, as
:data:`_COUNT_CREATED` is."""


def _count_created() -> Prepared:
    """One more unread and unseen notification, and the next ``seq``, for each user of ``user_ids`` (their
    rows created with ids from ``ids`` where missing), in array order."""
    table = table_of(NotificationInbox)
    added = (
        func.unnest(
            bindparam("ids", type_=UUIDS),
            bindparam("user_ids", type_=UUIDS),
        )
        .table_valued("id", "user_id")
        .render_derived(name="added")
    )
    one = literal(1, Integer)
    statement = insert(table).from_select(
        ["id", "tenant_id", "user_id", "seq", "unread", "unseen"],
        select(added.c.id, bindparam("tenant_id", type_=PG_UUID(as_uuid=True)), added.c.user_id, one, one, one),
    )
    return Prepared(
        statement.on_conflict_do_update(
            index_elements=["user_id"],
            set_={
                "seq": table.c.seq + 1,
                "unread": table.c.unread + statement.excluded.unread,
                "unseen": table.c.unseen + statement.excluded.unseen,
            },
        ).returning(table.c.user_id, table.c.seq, table.c.unread, table.c.unseen)
    )


_COUNT_CREATED = _count_created()
"""Prepared: SQLAlchemy 2.0 compiles PostgreSQL's ``INSERT ... ON CONFLICT`` anew at every execution
(sqlalchemy/sqlalchemy#10445), which cost more CPU than the statement."""


async def append_created_events(
    session: AsyncSession, *, tenant_id: UUID, events: list[tuple[UUID, dict[str, Any]]]
) -> None:
    """Store one ``notification.created``-style event per ``(user_id, body)``, each adding one unread and
    one unseen, in three statements whatever the number of users (each user at most once).

    Users' inbox rows are locked in id order, so concurrent callers never deadlock on them.
    """
    if not events:
        return
    events = sorted(events, key=lambda item: item[0])
    users = [user_id for user_id, _ in events]
    counted = await _COUNT_CREATED.fetch(session, ids=[uuid7() for _ in users], user_ids=users, tenant_id=tenant_id)
    stored = {row.user_id: (int(row.seq), int(row.unread), int(row.unseen)) for row in counted}
    occurred_at = _now()
    rows = []
    pending: list[tuple[str, bytes, int]] = session.info.setdefault(_PENDING_KEY, [])
    for user_id, body in events:
        seq, unread, unseen = stored[user_id]
        payload = msgspec.json.encode({**body, "counts": Counts(unread=max(unread, 0), unseen=max(unseen, 0))})
        rows.append(
            {
                "id": uuid7(),
                "tenant_id": tenant_id,
                "user_id": user_id,
                "seq": seq,
                "payload": payload,
                "occurred_at": occurred_at,
            }
        )
        pending.append((inbox_topic(tenant_id, user_id), payload, seq))
    await insert_rows(session, InboxEvent, rows)


async def count_states(session: AsyncSession, user_id: UUID) -> Counts:
    """How many of the user's notifications are unread, and how many of those not even seen."""
    row = (
        await session.execute(
            select(
                func.count().filter(Notification.state.in_(("unread", "seen"))),
                func.count().filter(Notification.state == "unread"),
            ).where(Notification.user_id == user_id)
        )
    ).one()
    return Counts(unread=row[0], unseen=row[1])


async def read_counts(session: AsyncSession, user_id: UUID) -> tuple[Counts, int]:
    """The stored counts and the last ``seq`` of the user's inbox (zeros before the first event)."""
    row = (
        await session.execute(
            select(NotificationInbox.unread, NotificationInbox.unseen, NotificationInbox.seq).where(
                NotificationInbox.user_id == user_id
            )
        )
    ).one_or_none()
    if row is None:
        return Counts(unread=0, unseen=0), 0
    return Counts(unread=row[0], unseen=row[1]), int(row[2])


def _now() -> datetime:
    return datetime.now(UTC)


@event.listens_for(AsyncSession.sync_session_class, "after_commit")
def _publish_committed(session: Session) -> None:
    pending: list[tuple[str, bytes, int]] = session.info.pop(_PENDING_KEY, [])
    publisher: Publisher | None = session.info.get(PUBLISHER_KEY)
    if not pending or publisher is None:
        return
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return
    # Ordered per user: one task publishes this transaction's events in seq order.
    task = loop.create_task(_publish_all(publisher, pending))
    _in_flight.add(task)
    task.add_done_callback(_in_flight.discard)


@event.listens_for(AsyncSession.sync_session_class, "after_rollback")
def _forget_rolled_back(session: Session) -> None:
    session.info.pop(_PENDING_KEY, None)


async def _publish_all(publisher: Publisher, pending: list[tuple[str, bytes, int]]) -> None:
    for topic, payload, seq in pending:
        try:
            await publisher(topic, payload, seq)
        except Exception:
            # The event is committed: a client that missed it resumes from Postgres.
            log.warning("could not publish an inbox event; clients will resume it", exc_info=True)


async def flush_publications() -> None:
    """Wait for publications under way (tests and shutdown)."""
    if _in_flight:
        await asyncio.gather(*list(_in_flight), return_exceptions=True)
