"""The publish queue: one ordered stream of broker publishes per process, batched, with durable events
retried and, when they cannot be published in time, their topics told to resync."""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections import deque
from typing import TYPE_CHECKING

import msgspec

from hub.fanout import pack
from hub.frames import Resync, encode

if TYPE_CHECKING:
    from hub.broker import Broker

log = logging.getLogger("hub.publisher")

RESYNC_REASON = "publish_failed"
"""``resync.reason`` when a durable event of the topic could not be published."""

_MAX_BATCH = 512
_RETRY_FIRST_S = 0.05
_RETRY_MAX_S = 1.0


class Backlog(msgspec.Struct, frozen=True, kw_only=True):
    """What waits to be published: ``queued`` items, of which ``resyncs`` stand for given-up events."""

    queued: int
    resyncs: int


class _Item:
    """One queued publish. ``durable`` items survive failed attempts; a resync item is never given up."""

    __slots__ = ("channel", "data", "done", "durable", "queued_at", "resync")

    def __init__(self, channel: str, data: bytes, *, durable: bool, resync: bool = False) -> None:
        self.channel = channel
        self.data = data
        self.durable = durable
        self.resync = resync
        self.queued_at = time.monotonic()
        self.done: asyncio.Future[None] | None = None


class PublishQueue:
    """Publishes in the order :meth:`put` was called, in pipelined batches, on one broker connection
    at a time: a burst of publishes neither waits for nor exhausts a connection pool.

    A failed or timed-out batch is tried again (backoff from 50 ms to 1 s). Ephemeral items in it
    are dropped, durable ones stay at the head of the queue, so per-topic order holds. A durable item
    still unpublished ``give_up_s`` after it was queued is replaced by one ``resync`` frame for its
    topic (one per topic), which is retried until the broker takes it: every node's listeners of the
    topic then learn it has a gap and resume it. The resync goes out before any later event of that
    topic from this process, so a client's last ``seq`` is still below the gap when it resumes.

    A retried batch may have reached the broker the first time (a timeout after the send): durable
    events can then be published twice, and each socket drops the second by its ``seq``.

    The flushing task runs only while something is queued; nothing needs starting or stopping.

    Args:
        broker: A started broker.
        timeout_s: A batch the broker has not accepted within this is treated as failed.
        give_up_s: A durable event not published within this (seconds since queued) is dropped for
            a ``resync`` of its topic.
    """

    def __init__(self, *, broker: Broker, timeout_s: float, give_up_s: float) -> None:
        self._broker = broker
        self._timeout_s = timeout_s
        self._give_up_s = give_up_s
        self._items: deque[_Item] = deque()
        self._task: asyncio.Task[None] | None = None

    @property
    def backlog(self) -> Backlog:
        """What is queued now (for health checks; counting the resyncs walks the queue)."""
        return Backlog(queued=len(self._items), resyncs=sum(1 for item in self._items if item.resync))

    async def put(self, channel: str, data: bytes, *, durable: bool) -> None:
        """Queue ``data`` for ``channel`` and wait for its first attempt.

        Returns once the broker accepted it, or, for a durable item whose first attempt failed, once
        it is kept for retry (it is then published later, or its topic is resynced).

        Raises:
            ConnectionError: If an ephemeral item's attempt failed (it is dropped).
        """
        item = _Item(channel, data, durable=durable)
        item.done = asyncio.get_running_loop().create_future()
        self._items.append(item)
        if self._task is None:
            self._task = asyncio.create_task(self._flush(), name="hub-publish-queue")
        await item.done

    async def aclose(self, *, wait_s: float) -> None:
        """Wait (at most ``wait_s``) for the queue to empty, then stop; what is left is dropped and logged."""
        task = self._task
        if task is None:
            return
        done, _ = await asyncio.wait({task}, timeout=wait_s)
        if not done:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            log.warning("publish queue closed with %d items unpublished", len(self._items))
            self._items.clear()

    async def _flush(self) -> None:
        items = self._items
        delay = _RETRY_FIRST_S
        try:
            while items:
                # The batch stays queued while it is tried (it counts in the backlog); items put
                # meanwhile go to the other end.
                batch = list(itertools.islice(items, _MAX_BATCH))
                try:
                    async with asyncio.timeout(self._timeout_s):
                        await self._broker.publish_batch([(item.channel, item.data) for item in batch])
                except Exception as exc:
                    # Any failure, not only the broker's ConnectionError: a caller must never wait forever.
                    log.warning("publishing %d items failed (%s); retrying", len(batch), type(exc).__name__)
                    self._failed(batch)
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, _RETRY_MAX_S)
                    continue
                delay = _RETRY_FIRST_S
                for _ in batch:
                    items.popleft()
                for item in batch:
                    _settle(item)
                    if item.resync:
                        log.warning("told the listeners of a topic to resync after a failed publish")
        finally:
            self._task = None

    def _failed(self, batch: list[_Item]) -> None:
        """Drop the ephemeral items of the batch at the head, keep the durable ones (in order), give up the old ones."""
        for _ in batch:
            self._items.popleft()
        now = time.monotonic()
        kept: list[_Item] = []
        resyncing: set[str] = set()
        for item in batch:
            if not item.durable:
                _settle(item, ConnectionError("publish failed"))
                continue
            _settle(item)  # the caller goes on; the item stays queued
            if item.resync:
                resyncing.add(item.channel)
                kept.append(item)
            elif now - item.queued_at < self._give_up_s:
                kept.append(item)
            elif item.channel not in resyncing:
                log.error("gave up publishing a durable event; its topic's listeners will be told to resync")
                resyncing.add(item.channel)
                frame = encode(Resync(reason=RESYNC_REASON, topics=[item.channel]))
                kept.append(_Item(item.channel, pack(frame), durable=True, resync=True))
        self._items.extendleft(reversed(kept))


def _settle(item: _Item, error: Exception | None = None) -> None:
    done = item.done
    if done is None or done.done():
        return
    if error is None:
        done.set_result(None)
    else:
        done.set_exception(error)
