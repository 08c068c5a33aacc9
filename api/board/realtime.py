"""Field operations on the hub: who may listen to a task's page or the board, and publishing their events.

A supervisor's sockets get the board topic from the start; any socket may ``subscribe`` to
``t:<tenant>:task:<id>`` for a task its user may read. Both topics keep no history: a ``subscribe``
with ``since`` answers ``too_far``, and the client refetches over HTTP.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from uuid import UUID

from sqlalchemy import any_, literal, select

from api.auth.permissions import Permission
from api.board.live import board_topic, flush_live_events, set_live_publisher
from hub import HubPublisher, RedisBroker, ReplayResult, ShardedRedisBroker
from hub.topics import local_part
from persistence.models import Role, Task, UserRole

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from sqlalchemy.ext.asyncio import AsyncSession

    from hub import Hub, Principal
    from persistence.engine import Database

TASK_PREFIX = "task:"
BOARD_TOPIC = "board"


def install_field_live(hub: Hub, db: Database) -> None:
    """Register the task and board topics with ``hub`` and publish committed field events through it."""

    async def board_topics(principal: Principal) -> list[str]:
        async with db.transaction(tenant_id=UUID(principal.namespace)) as session:
            if await _holds(session, UUID(principal.user_id), Permission.BOARD_READ):
                return [board_topic(principal.namespace)]
        return []

    async def task_topic_access(principal: Principal, topic: str, after_seq: int | None, limit: int) -> ReplayResult:
        try:
            task_id = UUID(local_part(topic).removeprefix(TASK_PREFIX))
        except ValueError:
            return ReplayResult(status="not_found")
        async with db.transaction(tenant_id=UUID(principal.namespace)) as session:
            # Row-level security hides another tenant's task: it is simply not found.
            if await session.scalar(select(Task.id).where(Task.id == task_id)) is None:
                return ReplayResult(status="not_found")
            if not await _holds(session, UUID(principal.user_id), Permission.TASKS_READ):
                return ReplayResult(status="forbidden")
        return ReplayResult() if after_seq is None else ReplayResult(status="too_far")

    async def board_access(principal: Principal, topic: str, after_seq: int | None, limit: int) -> ReplayResult:
        if local_part(topic) != BOARD_TOPIC:
            return ReplayResult(status="not_found")
        async with db.transaction(tenant_id=UUID(principal.namespace)) as session:
            if not await _holds(session, UUID(principal.user_id), Permission.BOARD_READ):
                return ReplayResult(status="forbidden")
        return ReplayResult() if after_seq is None else ReplayResult(status="too_far")

    async def publish(topic: str, payload: bytes) -> None:
        await hub.publish(topic, payload)

    hub.register_subscription_provider(board_topics)
    hub.register_replay_provider(TASK_PREFIX, task_topic_access)
    hub.register_replay_provider(BOARD_TOPIC, board_access)
    set_live_publisher(db, publish)


class _Deaf:
    """The listener of a broker that only publishes (a worker subscribes to nothing)."""

    def on_message(self, channel: str, data: bytes) -> None:
        """Never called: nothing is subscribed."""

    def on_connection_lost(self) -> None:
        """Publishing fails until the broker is back; the events are committed and refetched over HTTP."""

    def on_connection_restored(self) -> None:
        """Nothing to resume."""


async def publish_live_from_worker(
    db: Database, *, redis_url: str | None, cluster: bool = False
) -> Callable[[], Awaitable[None]]:
    """Publish the field events the worker commits through ``db`` (an overdue task reaching the board) on
    the hub's broker, as a web node would; with no Redis they are dropped.

    Returns:
        What stops publishing, once the worker is done.

    Raises:
        ConnectionError: If Redis cannot be reached.
    """
    if redis_url is None:
        return flush_live_events
    broker = ShardedRedisBroker(url=redis_url) if cluster else RedisBroker(url=redis_url)
    await broker.on_startup(_Deaf())
    set_live_publisher(db, HubPublisher(broker=broker).publish)

    async def stop() -> None:
        set_live_publisher(db, None)
        await flush_live_events()
        await broker.on_shutdown()

    return stop


async def _holds(session: AsyncSession, user_id: UUID, permission: Permission) -> bool:
    """Whether one of the user's roles grants ``permission`` (as the API resolves a caller's permissions)."""
    found = await session.scalar(
        select(UserRole.id)
        .join(Role, Role.id == UserRole.role_id)
        .where(UserRole.user_id == user_id, literal(str(permission)) == any_(Role.permissions))
        .limit(1)
    )
    return found is not None
