"""Push jobs: a notification pushed to every subscription of its user while unread and (unless
critical) while the user is offline, and the dismissal that replaces it once read elsewhere.

A batch of one tenant is read in one transaction (settling what has nothing to send), its sends run
concurrently outside any transaction, and each outcome is recorded with its job as soon as it is
known, several at a time.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol
from uuid import UUID

import msgspec
from sqlalchemy import delete, select, update

from delivery.batch_connection import BatchConnection, batch_connection
from delivery.outbox import (
    NotificationJob,
    notification_of,
)
from delivery.outcomes import DeliveryUpdate, entry, record_as_they_come, write_outcomes
from delivery.pending import PendingNote, PushTarget, load_pending, load_targets
from delivery.push import PushOutcome, PushSender, PushUrgency, SubscriptionInfo, SubscriptionKeys
from delivery.worker import DONE, JobOutcome
from persistence.models import (
    Notification,
    PushSubscription,
)

if TYPE_CHECKING:
    from collections.abc import Iterable

    from sqlalchemy.ext.asyncio import AsyncSession

    from persistence.engine import Database

from persistence.jobs import ClaimedJob

log = logging.getLogger("fieldhub.escalation")

URGENCY: dict[str, PushUrgency] = {"low": "low", "normal": "normal", "high": "high", "critical": "high"}
TTL_SECONDS = {"low": 3600, "normal": 4 * 3600, "high": 12 * 3600, "critical": 24 * 3600}
SUCCESS_STAMP_EVERY = timedelta(minutes=10)
"""A subscription's ``last_success_at`` is rewritten at most this often: a row update per push is
write load for a date nobody needs to the second."""


class PresenceCheck(Protocol):
    """The hub's presence, as far as routing needs it."""

    async def online_among(self, namespace: str, user_ids: Iterable[str]) -> set[str]: ...


def push_topic(notification_id: UUID) -> str:
    """The push ``Topic`` of a notification: 32 URL-safe characters, the same for its dismissal."""
    return notification_id.hex


class _Push(msgspec.Struct, kw_only=True):
    job: ClaimedJob
    note: PendingNote
    delivery_id: UUID
    subscriptions: list[PushTarget]
    done: set[Any]


class _PushResult(msgspec.Struct, kw_only=True):
    item: _Push
    outcomes: list[tuple[PushTarget, PushOutcome]]


class PushJobs:
    """The push and dismissal job handlers.

    Args:
        db: the application's database.
        push: sends Web Push; ``None`` skips push deliveries (no VAPID key loaded).
        presence: the hub's presence; ``None`` treats every user as offline.
    """

    def __init__(self, *, db: Database, push: PushSender | None, presence: PresenceCheck | None) -> None:
        self._db = db
        self._push = push
        self._presence = presence

    async def send_pushes(self, jobs: list[ClaimedJob]) -> set[UUID]:
        """Push each notification to every subscription of its user, unless read meanwhile or (not
        critical) the user is online. ``jobs`` are of one tenant; returns the jobs settled."""
        async with batch_connection(self._db) as held:
            return await self._send_pushes_on(held, jobs)

    async def _send_pushes_on(self, held: BatchConnection, jobs: list[ClaimedJob]) -> set[UUID]:
        tenant_id = jobs[0].tenant_id
        settled: set[UUID] = set()
        work: list[_Push] = []
        async with held.transaction(tenant_id=tenant_id) as session:
            loaded = await load_pending(session, map(notification_of, jobs), "push")
            users = {note.user_id for note, _ in loaded.values()}
            subscriptions = await load_targets(session, users) if users and self._push is not None else {}
            waiting = [note for note, d in loaded.values() if d.status != "sent" and note.state in ("unread", "seen")]
            online = await self._online(tenant_id, {n.user_id for n in waiting if n.priority != "critical"})
            skipped: list[DeliveryUpdate] = []
            outcomes: list[tuple[ClaimedJob, JobOutcome]] = []
            for job in jobs:
                found = loaded.get(notification_of(job))
                if found is None or found[1].status == "sent":
                    # Gone, or pushed by an earlier attempt whose worker died before settling it.
                    outcomes.append((job, DONE))
                    continue
                note, delivery = found
                skip = self._push_skip_reason(note, online, subscriptions.get(note.user_id, []))
                if skip is not None:
                    skipped.append(DeliveryUpdate(id=delivery.id, status="skipped", reason=skip, attempts=0))
                    outcomes.append((job, DONE))
                    continue
                done = {e.get("subscription") for e in delivery.log if e.get("status") == "sent"}
                work.append(
                    _Push(
                        job=job,
                        note=note,
                        delivery_id=delivery.id,
                        subscriptions=subscriptions[note.user_id],
                        done=done,
                    )
                )
            if outcomes:
                await write_outcomes(session, skipped, outcomes)
        settled.update(job.id for job, _ in outcomes)
        if work:
            sends = [self._push_one(item) for item in work]

            async def write(session: AsyncSession, results: list[_PushResult]) -> None:
                settled.update(await self._write_push_results(session, results))

            await record_as_they_come(held, tenant_id, sends, write)
        return settled

    def _push_skip_reason(self, note: PendingNote, online: set[UUID], subscriptions: list[PushTarget]) -> str | None:
        if note.state in ("read", "archived"):
            return "read"
        if self._push is None:
            return "push_not_configured"
        if note.user_id in online:
            return "online"
        if not subscriptions:
            return "no_subscription"
        return None

    async def _online(self, tenant_id: UUID, user_ids: set[UUID]) -> set[UUID]:
        """Which of ``user_ids`` have a socket on the hub; nobody when presence is unknown."""
        if self._presence is None or not user_ids:
            return set()
        try:
            online = await self._presence.online_among(str(tenant_id), (str(u) for u in user_ids))
        except ConnectionError:
            log.warning("presence unavailable; pushing as if offline")
            return set()
        return {user_id for user_id in user_ids if str(user_id) in online}

    def _push_payload(self, note: PendingNote) -> bytes:
        """What the service worker gets: ids and a short text (details are fetched), well under 4 KiB."""
        return msgspec.json.encode(
            {
                "id": str(note.id),
                "category": note.category,
                "priority": note.priority,
                "title": note.title[:120],
                "body": note.body[:240],
                "link": note.link,
                "actions": note.actions,
                "fetch": f"/api/v1/notifications/{note.id}",
                "tag": push_topic(note.id),
            }
        )

    async def _push_one(self, item: _Push) -> _PushResult:
        """Send ``item`` to its subscriptions not yet pushed, all at once; never raises."""
        assert self._push is not None
        payload = self._push_payload(item.note)
        priority = item.note.priority
        targets = [sub for sub in item.subscriptions if str(sub.id) not in item.done]

        async def one(sub: PushTarget) -> PushOutcome:
            assert self._push is not None
            info = SubscriptionInfo(endpoint=sub.endpoint, keys=SubscriptionKeys(p256dh=sub.p256dh, auth=sub.auth))
            try:
                return await self._push.send(
                    info,
                    payload,
                    ttl=TTL_SECONDS.get(priority, 3600),
                    urgency=URGENCY.get(priority, "normal"),
                    topic=push_topic(item.note.id),
                )
            except Exception as exc:
                log.warning("push failed unexpectedly", exc_info=True)
                return PushOutcome(status="retry", detail=f"{type(exc).__name__}: {exc}"[:300])

        # Most users have one subscription: no task of its own for it.
        outcomes = [await one(targets[0])] if len(targets) == 1 else await asyncio.gather(*map(one, targets))
        return _PushResult(item=item, outcomes=list(zip(targets, outcomes, strict=True)))

    async def _write_push_results(self, session: AsyncSession, results: list[_PushResult]) -> list[UUID]:
        """Record each push's per-subscription outcomes and overall status, forget gone subscriptions,
        and settle the jobs: one transaction for the lot. Returns the jobs settled."""
        now = datetime.now(UTC)
        updates: list[DeliveryUpdate] = []
        outcomes: list[tuple[ClaimedJob, JobOutcome]] = []
        succeeded: list[UUID] = []
        gone_ids: list[UUID] = []
        for result in results:
            item = result.item
            entries: list[dict[str, Any]] = []
            sent = len(item.done & {str(sub.id) for sub in item.subscriptions})
            gone, failures, retrying, retry_after = 0, 0, 0, []
            reason: str | None = None
            for sub, outcome in result.outcomes:
                if outcome.status == "sent":
                    sent += 1
                    if sub.last_success_at is None or now - sub.last_success_at > SUCCESS_STAMP_EVERY:
                        succeeded.append(sub.id)
                    entries.append(entry(now, "sent", subscription=str(sub.id), http_status=outcome.http_status))
                elif outcome.status == "gone":
                    gone += 1
                    gone_ids.append(sub.id)
                else:
                    reason = outcome.detail or f"push service answered {outcome.http_status}"
                    entries.append(
                        entry(now, "failed", reason, subscription=str(sub.id), http_status=outcome.http_status)
                    )
                    if outcome.status == "retry":
                        retrying += 1
                        if outcome.retry_after is not None:
                            retry_after.append(outcome.retry_after)
                    else:
                        failures += 1
            attempts = len(entries)
            if retrying:
                updates.append(
                    DeliveryUpdate(
                        id=item.delivery_id, status="failed", reason=reason, attempts=attempts, entries=entries
                    )
                )
                why = f"{retrying} push service(s) asked to retry"
                outcomes.append(
                    (item.job, JobOutcome(status="retry", reason=why, after=max(retry_after, default=None)))
                )
                continue
            if sent:
                status, reason = "sent", None
                entries.append(entry(now, "sent", subscriptions=sent))
            elif gone and not failures:
                status, reason = "skipped", "subscription_gone"
                entries.append(entry(now, status, reason))
            else:
                status, reason = "failed", "every push service refused"
                entries.append(entry(now, status, reason))
            updates.append(
                DeliveryUpdate(id=item.delivery_id, status=status, reason=reason, attempts=attempts, entries=entries)
            )
            outcomes.append((item.job, DONE))
        if succeeded:
            await session.execute(
                update(PushSubscription).where(PushSubscription.id.in_(succeeded)).values(last_success_at=now)
            )
        if gone_ids:
            await session.execute(delete(PushSubscription).where(PushSubscription.id.in_(gone_ids)))
        await write_outcomes(session, updates, outcomes)
        return [job.id for job, _ in outcomes]

    async def send_dismissal(self, job: ClaimedJob) -> None:
        """Replace the shown push of a notification read elsewhere (same ``Topic``, a ``dismiss`` payload)."""
        notification_id = msgspec.convert(job.payload, NotificationJob).notification_id
        if self._push is None:
            return
        async with self._db.transaction(tenant_id=job.tenant_id) as session:
            user_id = await session.scalar(select(Notification.user_id).where(Notification.id == notification_id))
            subscriptions = list(
                (await session.scalars(select(PushSubscription).where(PushSubscription.user_id == user_id))).all()
            )
        payload = msgspec.json.encode({"dismiss": str(notification_id), "tag": push_topic(notification_id)})
        for sub in subscriptions:
            info = SubscriptionInfo(endpoint=sub.endpoint, keys=SubscriptionKeys(p256dh=sub.p256dh, auth=sub.auth))
            outcome = await self._push.send(info, payload, ttl=3600, urgency="low", topic=push_topic(notification_id))
            if outcome.status == "gone":
                async with self._db.transaction(tenant_id=job.tenant_id) as session:
                    await session.execute(delete(PushSubscription).where(PushSubscription.id == sub.id))
