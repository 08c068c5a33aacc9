"""What a chat change does once its transaction commits: publish its events, move live subscriptions."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from uuid import UUID

    from channels.events import Outgoing
    from hub import Hub

log = logging.getLogger("fieldhub.chat")


class Effects:
    """Collected while a change runs, applied after its commit (never before: it might roll back).

    If Redis is down when they are applied, durable events are not lost: clients replay them from
    PostgreSQL when they resume. Subscriptions that could not move are fixed at the next connect.
    """

    def __init__(self) -> None:
        self.events: list[Outgoing] = []
        self._topics: list[tuple[bool, UUID, UUID, str, int | None]] = []

    def publish(self, event: Outgoing) -> None:
        self.events.append(event)

    def subscribe(self, tenant_id: UUID, user_id: UUID, topic: str, *, since: int) -> None:
        """Add ``topic`` to the user's sockets, replaying its events after ``since`` (the topic's
        last ``seq`` before the membership), so the events that follow at once are not missed."""
        self._topics.append((True, tenant_id, user_id, topic, since))

    def unsubscribe(self, tenant_id: UUID, user_id: UUID, topic: str) -> None:
        self._topics.append((False, tenant_id, user_id, topic, None))

    async def apply(self, hub: Hub) -> None:
        """Add subscriptions, publish, then remove subscriptions: a member who joins sees the event
        of their joining, and one who leaves sees the event of their leaving."""
        await self._move(hub, adding=True)
        for event in self.events:
            try:
                await hub.publish(event.topic, event.payload, seq=event.seq)
            except ConnectionError:
                log.warning("could not publish; clients recover it on resume", extra={"topic": event.topic})
        await self._move(hub, adding=False)

    async def _move(self, hub: Hub, *, adding: bool) -> None:
        for add, tenant_id, user_id, topic, since in self._topics:
            if add != adding:
                continue
            try:
                if add:
                    await hub.add_topic(str(tenant_id), str(user_id), topic, since=since)
                else:
                    await hub.remove_topic(str(tenant_id), str(user_id), topic)
            except ConnectionError:
                log.warning("could not move a live subscription", extra={"topic": topic})
