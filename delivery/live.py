"""The inbox on the hub: every socket gets its user's inbox topic, resumes it from Postgres, and hears committed events."""

from __future__ import annotations

from typing import TYPE_CHECKING
from uuid import UUID

from sqlalchemy import select

from delivery.inbox import inbox_topic, set_publisher
from hub import Hub, Principal, ReplayEvent, ReplayResult
from hub.topics import local_part
from persistence.models import InboxEvent

if TYPE_CHECKING:
    from persistence.engine import Database

INBOX_PREFIX = "inbox:"


def install_inbox(hub: Hub, db: Database) -> None:
    """Register the inbox's subscription and replay providers with ``hub`` and publish committed events through it."""

    async def topics(principal: Principal) -> list[str]:
        return [inbox_topic(principal.namespace, principal.user_id)]

    async def replay(principal: Principal, topic: str, after_seq: int | None, limit: int) -> ReplayResult:
        # Only the owner reads an inbox; another user's inbox is "not found", never "forbidden".
        if local_part(topic) != f"{INBOX_PREFIX}{principal.user_id}":
            return ReplayResult(status="not_found")
        if after_seq is None:
            return ReplayResult()
        async with db.transaction(tenant_id=UUID(principal.namespace)) as session:
            rows = (
                await session.execute(
                    select(InboxEvent.seq, InboxEvent.payload)
                    .where(InboxEvent.user_id == UUID(principal.user_id), InboxEvent.seq > after_seq)
                    .order_by(InboxEvent.seq)
                    .limit(limit + 1)
                )
            ).all()
        events = [ReplayEvent(seq=int(seq), payload=payload) for seq, payload in rows[:limit]]
        return ReplayResult(events=events, complete=len(rows) <= limit)

    async def publish(topic: str, payload: bytes, seq: int) -> None:
        await hub.publish(topic, payload, seq=seq)

    hub.register_subscription_provider(topics)
    hub.register_replay_provider(INBOX_PREFIX, replay)
    set_publisher(db, publish)
