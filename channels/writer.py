"""Group commit of chat sends: the sends waiting for one conversation are stored together, in one
transaction, then each is answered and the events are published."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from channels.batch import MAX_BODY, SendRequest, Sent, store_sends
from channels.effects import Effects
from channels.errors import ChatError

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable
    from uuid import UUID

    from channels.notifications import MentionNotifier
    from hub import Hub
    from persistence.engine import Database

log = logging.getLogger("fieldhub.chat")

MAX_BATCH = 200
"""Sends stored in one transaction at most; more wait for the next one (bounds a transaction's time)."""


class _Lane:
    """The sends waiting for one conversation of one tenant, and the task storing them."""

    def __init__(self) -> None:
        self.waiting: list[tuple[SendRequest, asyncio.Future[Sent]]] = []
        self.task: asyncio.Task[None] | None = None

    def take(self, limit: int) -> list[tuple[SendRequest, asyncio.Future[Sent]]]:
        taken, self.waiting = self.waiting[:limit], self.waiting[limit:]
        return taken


class SendWriter:
    """Stores sends per conversation in batches: one process-wide writer, shared by the WebSocket
    and HTTP send paths.

    While one batch of a conversation is being committed, the sends arriving for it wait, and
    the next transaction takes all of them (at most ``max_batch``): one row lock, one ``last_seq``
    update, one multi-row INSERT per table and one commit for the lot. A quiet conversation's
    send is stored at once, alone. Conversations do not wait for each other (each has its own
    lane; the database pool bounds how many commit at the same time). Across processes the
    conversation's row lock orders the batches, as it orders single sends. A lane's queue needs
    no bound of its own: a socket handles its frames one at a time, so it holds at most one
    waiting send, and an HTTP request one.

    Args:
        db: the application's database.
        hub: publishes each batch's events after its commit (``None``: nothing is published).
        notifier: turns mentions into notifications, in the batch's transaction.
        max_body: the longest text accepted, in characters.
        max_batch: sends per transaction at most.
        on_stored: awaited with (tenant, author) for each author of a committed batch before any of
            its senders is answered (the app keeps that author's reads on the primary for a moment,
            so the page they reload holds what they just sent).
    """

    def __init__(
        self,
        *,
        db: Database,
        hub: Hub | None,
        notifier: MentionNotifier | None,
        max_body: int = MAX_BODY,
        max_batch: int = MAX_BATCH,
        on_stored: Callable[[UUID, UUID], Awaitable[None]] | None = None,
    ) -> None:
        self._db = db
        self._hub = hub
        self._notifier = notifier
        self._max_body = max_body
        self._max_batch = max_batch
        self._on_stored = on_stored
        self._lanes: dict[tuple[UUID, UUID], _Lane] = {}

    async def send(self, tenant_id: UUID, conversation_id: UUID, request: SendRequest) -> Sent:
        """Store one message with the others waiting for its conversation; returns once committed.

        A retry whose original is in the same batch, or still being committed, gets the original
        back (``created`` false).

        Returns:
            The message as its author sees it, and whether this send stored it.

        Raises:
            ChatError: the message is refused (nothing of it was written), or ``unavailable``
                when the database failed: nothing of the whole batch was stored; retry with the
                same ``client_id``. Events are published after this returns, not before.
        """
        lane = self._lanes.get((tenant_id, conversation_id))
        if lane is None:
            lane = self._lanes[(tenant_id, conversation_id)] = _Lane()
            lane.task = asyncio.get_running_loop().create_task(self._drain(tenant_id, conversation_id, lane))
        future: asyncio.Future[Sent] = asyncio.get_running_loop().create_future()
        lane.waiting.append((request, future))
        # A caller that gives up (its socket closed) cancels only its wait: its message may still commit.
        return await future

    async def drained(self) -> None:
        """Wait until every send accepted so far has been answered (a node shutting down, tests)."""
        while self._lanes:
            await asyncio.gather(*(lane.task for lane in list(self._lanes.values()) if lane.task is not None))

    async def _drain(self, tenant_id: UUID, conversation_id: UUID, lane: _Lane) -> None:
        try:
            while lane.waiting:
                await self._commit(tenant_id, conversation_id, lane)
        finally:
            # Nothing awaits between the last check and here, so no send is left behind.
            del self._lanes[(tenant_id, conversation_id)]

    async def _commit(self, tenant_id: UUID, conversation_id: UUID, lane: _Lane) -> None:
        effects = Effects()
        batch: list[tuple[SendRequest, asyncio.Future[Sent]]] = []
        try:
            async with self._db.transaction(tenant_id=tenant_id) as session:
                # The batch is taken once a connection is ours: sends arriving meanwhile join it.
                await session.connection()
                batch = lane.take(self._max_batch)
                outcomes = await store_sends(
                    session,
                    tenant_id=tenant_id,
                    conversation_id=conversation_id,
                    requests=[request for request, _ in batch],
                    effects=effects,
                    notifier=self._notifier,
                    max_body=self._max_body,
                )
        except Exception:  # whatever failed, every waiter of the batch must get an answer
            log.exception("a batch of %d sends failed; nothing of it was stored", len(batch) or len(lane.waiting))
            failure = ChatError("unavailable", "The message could not be stored; retry with the same client_id.")
            for _, future in batch or lane.take(self._max_batch):
                if not future.done():
                    future.set_exception(failure)
            return
        if self._on_stored is not None:
            stored = {request.author_id for (request, _), o in zip(batch, outcomes, strict=True) if isinstance(o, Sent)}
            for author_id in stored:
                await self._on_stored(tenant_id, author_id)
        for (_, future), outcome in zip(batch, outcomes, strict=True):
            if future.done():
                continue
            if isinstance(outcome, ChatError):
                future.set_exception(outcome)
            else:
                future.set_result(outcome)
        if self._hub is not None:
            try:
                await effects.apply(self._hub)
            except Exception:  # the lane must go on: the next batch's senders are waiting
                log.exception("could not publish a batch of sends; clients recover it on resume")
