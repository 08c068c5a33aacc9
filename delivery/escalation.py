"""The notification jobs as they come due: push if still unread and offline, email later, digests, dismissals.

Network sends happen outside any transaction; each reads its notification first (as the job's
tenant) and records the outcome afterwards in a transaction of its own.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol
from uuid import UUID

import aiosmtplib
import msgspec
from sqlalchemy import delete, select, type_coerce, update
from sqlalchemy.dialects.postgresql import JSONB, insert
from uuid_utils.compat import uuid7

from delivery.email import EmailSender, PermanentEmailFailure, message_id_for
from delivery.outbox import DIGEST_JOB, DISMISS_JOB, EMAIL_NOTIFICATION_JOB, PUSH_JOB, DigestJob, NotificationJob
from delivery.push import PushSender, PushUrgency, SubscriptionInfo, SubscriptionKeys
from delivery.templates import render_email
from delivery.unsubscribe import UnsubscribeTarget, sign_unsubscribe
from delivery.worker import RetryLater
from persistence.models import (
    EmailSuppression,
    Notification,
    NotificationCategory,
    NotificationDelivery,
    PushSubscription,
    User,
)

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from sqlalchemy.ext.asyncio import AsyncSession

    from persistence.engine import Database
    from persistence.jobs import ClaimedJob

log = logging.getLogger("fieldhub.escalation")

URGENCY: dict[str, PushUrgency] = {"low": "low", "normal": "normal", "high": "high", "critical": "high"}
TTL_SECONDS = {"low": 3600, "normal": 4 * 3600, "high": 12 * 3600, "critical": 24 * 3600}


class PresenceCheck(Protocol):
    """The hub's presence, as far as routing needs it."""

    async def is_online(self, namespace: str, user_id: str) -> bool: ...


async def record(
    session: AsyncSession,
    delivery_id: UUID,
    status: str,
    *,
    reason: str | None = None,
    attempt: bool = True,
    **extra: Any,
) -> None:
    """Set a delivery's status and append the attempt to its log."""
    now = datetime.now(UTC)
    entry: dict[str, Any] = {"at": now.isoformat(), "status": status, **extra}
    if reason:
        entry["reason"] = reason
    values: dict[str, Any] = {
        "status": status,
        "reason": reason,
        "updated_at": now,
        "log": NotificationDelivery.log.op("||")(type_coerce([entry], JSONB)),
    }
    if attempt:
        values["attempts"] = NotificationDelivery.attempts + 1
    await session.execute(update(NotificationDelivery).where(NotificationDelivery.id == delivery_id).values(**values))


def push_topic(notification_id: UUID) -> str:
    """The push ``Topic`` of a notification: 32 URL-safe characters, the same for its dismissal."""
    return notification_id.hex


class Escalation:
    """Handlers for the notification job kinds.

    Args:
        db: the application's database.
        mailer: sends notification email and digests.
        push: sends Web Push; ``None`` skips push deliveries (no VAPID key loaded).
        presence: the hub's presence; ``None`` treats every user as offline.
        secret: keys the unsubscribe links.
        public_url: the app's address, for links in email.
    """

    def __init__(
        self,
        *,
        db: Database,
        mailer: EmailSender,
        push: PushSender | None,
        presence: PresenceCheck | None,
        secret: str,
        public_url: str,
    ) -> None:
        self._db = db
        self._mailer = mailer
        self._push = push
        self._presence = presence
        self._secret = secret
        self._public_url = public_url.rstrip("/")

    def handlers(self) -> dict[str, Callable[[ClaimedJob], Awaitable[None]]]:
        return {
            PUSH_JOB: self.send_push,
            DISMISS_JOB: self.send_dismissal,
            EMAIL_NOTIFICATION_JOB: self.send_email,
            DIGEST_JOB: self.send_digest,
        }

    async def _load(
        self, session: AsyncSession, job: ClaimedJob, channel: str
    ) -> tuple[Notification, NotificationDelivery] | None:
        """The notification ``job`` names and its ``channel`` delivery; ``None`` when either no longer exists."""
        notification_id = msgspec.convert(job.payload, NotificationJob).notification_id
        row = (
            await session.execute(
                select(Notification, NotificationDelivery)
                .join(NotificationDelivery, NotificationDelivery.notification_id == Notification.id)
                .where(Notification.id == notification_id, NotificationDelivery.channel == channel)
            )
        ).one_or_none()
        return None if row is None else (row[0], row[1])

    # -- push -----------------------------------------------------------------------------------

    async def send_push(self, job: ClaimedJob) -> None:
        """Push to every subscription of the user, unless read meanwhile or (not critical) online."""
        async with self._db.transaction(tenant_id=job.tenant_id) as session:
            loaded = await self._load(session, job, "push")
            if loaded is None:
                return
            note, delivery = loaded
            skip = await self._push_skip_reason(job.tenant_id, note)
            if skip is not None:
                await record(session, delivery.id, "skipped", reason=skip, attempt=False)
                return
            subscriptions = list(
                (await session.scalars(select(PushSubscription).where(PushSubscription.user_id == note.user_id))).all()
            )
            done = {e.get("subscription") for e in delivery.log if e.get("status") == "sent"}
            if not subscriptions:
                await record(session, delivery.id, "skipped", reason="no_subscription", attempt=False)
                return
        assert self._push is not None
        payload = msgspec.json.encode(
            {
                "id": str(note.id),
                "category": note.category,
                "priority": note.priority,
                "title": note.title[:120],
                "body": note.body[:240],
                "link": note.link,
                "fetch": f"/api/v1/notifications/{note.id}",
                "tag": push_topic(note.id),
            }
        )
        await self._push_to(job, delivery.id, subscriptions, done, payload, note.priority, push_topic(note.id))

    async def _push_skip_reason(self, tenant_id: UUID, note: Notification) -> str | None:
        if note.state in ("read", "archived"):
            return "read"
        if self._push is None:
            return "push_not_configured"
        if note.priority != "critical" and self._presence is not None:
            try:
                if await self._presence.is_online(str(tenant_id), str(note.user_id)):
                    return "online"
            except ConnectionError:
                log.warning("presence unavailable; pushing as if offline")
        return None

    async def _push_to(
        self,
        job: ClaimedJob,
        delivery_id: UUID,
        subscriptions: list[PushSubscription],
        done: set[Any],
        payload: bytes,
        priority: str,
        topic: str,
    ) -> None:
        assert self._push is not None
        sent, gone, retry_after, retrying, failures = 0, [], [], [], []
        for sub in subscriptions:
            if str(sub.id) in done:
                sent += 1
                continue
            info = SubscriptionInfo(endpoint=sub.endpoint, keys=SubscriptionKeys(p256dh=sub.p256dh, auth=sub.auth))
            outcome = await self._push.send(
                info, payload, ttl=TTL_SECONDS.get(priority, 3600), urgency=URGENCY.get(priority, "normal"), topic=topic
            )
            async with self._db.transaction(tenant_id=job.tenant_id) as session:
                if outcome.status == "sent":
                    sent += 1
                    await session.execute(
                        update(PushSubscription)
                        .where(PushSubscription.id == sub.id)
                        .values(last_success_at=datetime.now(UTC))
                    )
                    await record(
                        session, delivery_id, "sent", subscription=str(sub.id), http_status=outcome.http_status
                    )
                elif outcome.status == "gone":
                    gone.append(sub.id)
                    await session.execute(delete(PushSubscription).where(PushSubscription.id == sub.id))
                else:
                    status = "failed"
                    if outcome.status == "retry":
                        retrying.append(sub.id)
                        if outcome.retry_after is not None:
                            retry_after.append(outcome.retry_after)
                    else:
                        failures.append(sub.id)
                    reason = outcome.detail or f"push service answered {outcome.http_status}"
                    await record(
                        session,
                        delivery_id,
                        status,
                        reason=reason,
                        subscription=str(sub.id),
                        http_status=outcome.http_status,
                    )
        async with self._db.transaction(tenant_id=job.tenant_id) as session:
            if retrying:
                raise RetryLater(
                    f"{len(retrying)} push service(s) asked to retry", after=max(retry_after, default=None)
                )
            if sent:
                await record(session, delivery_id, "sent", attempt=False, subscriptions=sent)
            elif gone and not failures:
                await record(session, delivery_id, "skipped", reason="subscription_gone", attempt=False)
            else:
                await record(session, delivery_id, "failed", reason="every push service refused", attempt=False)

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

    # -- email ----------------------------------------------------------------------------------

    async def send_email(self, job: ClaimedJob) -> None:
        """Email the notification if still unread; a 5xx bounces the address for good."""
        async with self._db.transaction(tenant_id=job.tenant_id) as session:
            loaded = await self._load(session, job, "email")
            if loaded is None:
                return
            note, delivery = loaded
            if note.state in ("read", "archived"):
                await record(session, delivery.id, "skipped", reason="read", attempt=False)
                return
            user = await session.get_one(User, note.user_id)
            if await self._suppressed(session, user.email):
                await record(session, delivery.id, "skipped", reason="address_failed", attempt=False)
                return
            category = await session.scalar(
                select(NotificationCategory).where(NotificationCategory.key == note.category)
            )
        locked = category is not None and category.locked
        values = {
            "title": note.title,
            "body": note.body,
            "link": self._absolute(note.link or "/"),
            "category_name": category.name if category else note.category,
            "app_url": self._public_url,
            "unsubscribe_url": "" if locked else self._unsubscribe_url(job.tenant_id, user.id, note.category),
        }
        mail = render_email(locale=user.locale, template=note.category, subject=note.title, values=values)
        await self._deliver_mail(
            job, [delivery.id], user, mail.subject, mail.text, mail.html, None if locked else note.category
        )

    async def send_digest(self, job: ClaimedJob) -> None:
        """One email listing the user's low-priority notifications of the window that are still unread."""
        digest = msgspec.convert(job.payload, DigestJob)
        async with self._db.transaction(tenant_id=job.tenant_id) as session:
            rows = (
                await session.execute(
                    select(Notification, NotificationDelivery.id)
                    .join(NotificationDelivery, NotificationDelivery.notification_id == Notification.id)
                    .where(
                        NotificationDelivery.user_id == digest.user_id,
                        NotificationDelivery.channel == "email",
                        NotificationDelivery.digest.is_(True),
                        NotificationDelivery.status.in_(("queued", "failed")),
                        NotificationDelivery.scheduled_at <= digest.window_end,
                    )
                    .order_by(Notification.id)
                )
            ).all()
            unread = [(n, d) for n, d in rows if n.state in ("unread", "seen")]
            for n, d in rows:
                if n.state not in ("unread", "seen"):
                    await record(session, d, "skipped", reason="read", attempt=False)
            if not unread:
                return
            user = await session.get_one(User, digest.user_id)
            if await self._suppressed(session, user.email):
                for _, d in unread:
                    await record(session, d, "skipped", reason="address_failed", attempt=False)
                return
        lines = "\n".join(f"- {n.title}: {n.body[:200]}" for n, _ in unread)
        subject = f"{len(unread)} new notification{'s' if len(unread) != 1 else ''}"
        values = {
            "title": subject,
            "body": lines,
            "link": self._absolute("/"),
            "category_name": "digest",
            "app_url": self._public_url,
            "unsubscribe_url": "",
        }
        mail = render_email(locale=user.locale, template="digest", subject=subject, values=values)
        await self._deliver_mail(job, [d for _, d in unread], user, subject, mail.text, mail.html, None)

    async def _deliver_mail(
        self,
        job: ClaimedJob,
        delivery_ids: list[UUID],
        user: User,
        subject: str,
        text: str,
        html: str,
        unsubscribe_category: str | None,
    ) -> None:
        headers: dict[str, str] = {}
        if unsubscribe_category is not None:
            url = self._unsubscribe_url(job.tenant_id, user.id, unsubscribe_category)
            headers = {"List-Unsubscribe": f"<{url}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
        try:
            await self._mailer.send(
                to=user.email,
                subject=subject,
                body=text,
                html=html,
                message_id=message_id_for(job.id, self._mailer),
                headers=headers,
            )
        except PermanentEmailFailure as exc:
            async with self._db.transaction(tenant_id=job.tenant_id) as session:
                await session.execute(
                    insert(EmailSuppression)
                    .values(
                        id=uuid7(),
                        tenant_id=job.tenant_id,
                        address=user.email,
                        reason=str(exc)[:500],
                        created_at=datetime.now(UTC),
                    )
                    .on_conflict_do_nothing()
                )
                for delivery_id in delivery_ids:
                    await record(session, delivery_id, "bounced", reason=str(exc)[:500], smtp_code=exc.code)
            return
        except (aiosmtplib.SMTPException, TimeoutError, OSError) as exc:
            async with self._db.transaction(tenant_id=job.tenant_id) as session:
                for delivery_id in delivery_ids:
                    await record(session, delivery_id, "failed", reason=f"{type(exc).__name__}: {exc}"[:500])
            raise
        async with self._db.transaction(tenant_id=job.tenant_id) as session:
            for delivery_id in delivery_ids:
                await record(session, delivery_id, "sent", target=user.email)

    async def _suppressed(self, session: AsyncSession, address: str) -> bool:
        return await session.scalar(select(EmailSuppression.id).where(EmailSuppression.address == address)) is not None

    def _absolute(self, link: str) -> str:
        return link if link.startswith("https://") else f"{self._public_url}{link}"

    def _unsubscribe_url(self, tenant_id: UUID, user_id: UUID, category: str) -> str:
        token = sign_unsubscribe(self._secret, UnsubscribeTarget(tenant_id, user_id, category))
        return f"{self._public_url}/api/v1/notifications/unsubscribe?token={token}"
