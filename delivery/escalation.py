"""The notification jobs as they come due: push if still unread and offline, email later, digests, dismissals.

Network sends happen outside any transaction. Push and email jobs come in batches of one tenant:
one transaction reads their notifications (and settles those with nothing to send), the sends run
concurrently, and each outcome is recorded, with its job settled, in a transaction as soon as it is
known, several at a time. Digests and dismissals run one job at a time.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol
from uuid import UUID

import aiosmtplib
import msgspec
from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert
from uuid_utils.compat import uuid7

from delivery.email import EmailSender, PermanentEmailFailure, address_problem, message_id_for
from delivery.outbox import DIGEST_JOB, DISMISS_JOB, EMAIL_NOTIFICATION_JOB, PUSH_JOB, DigestJob, NotificationJob
from delivery.outcomes import DeliveryUpdate, entry, record, record_as_they_come, write_outcomes
from delivery.pending import PendingNote, PushTarget, load_pending, load_targets
from delivery.push import PushOutcome, PushSender, PushUrgency, SubscriptionInfo, SubscriptionKeys
from delivery.templates import render_email
from delivery.unsubscribe import UnsubscribeTarget, sign_unsubscribe
from delivery.worker import DONE, Batched, Handler, JobOutcome
from persistence.models import (
    EmailSuppression,
    Notification,
    NotificationCategory,
    NotificationDelivery,
    PushSubscription,
    User,
)

if TYPE_CHECKING:
    from collections.abc import Iterable

    from sqlalchemy.ext.asyncio import AsyncSession

    from delivery.relays import TenantRelays
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


def _notification_of(job: ClaimedJob) -> UUID:
    return msgspec.convert(job.payload, NotificationJob).notification_id


class _Push(msgspec.Struct, kw_only=True):
    job: ClaimedJob
    note: PendingNote
    delivery_id: UUID
    subscriptions: list[PushTarget]
    done: set[Any]


class _PushResult(msgspec.Struct, kw_only=True):
    item: _Push
    outcomes: list[tuple[PushTarget, PushOutcome]]


class _Mail(msgspec.Struct, frozen=True, kw_only=True):
    job: ClaimedJob
    delivery_id: UUID
    address: str
    subject: str
    text: str
    html: str
    headers: dict[str, str]


class _MailResult(msgspec.Struct, frozen=True, kw_only=True):
    mail: _Mail
    status: str
    reason: str = ""
    smtp_code: int | None = None


class Escalation:
    """Handlers for the notification job kinds.

    Args:
        db: the application's database.
        mailer: sends notification email and digests.
        push: sends Web Push; ``None`` skips push deliveries (no VAPID key loaded).
        presence: the hub's presence; ``None`` treats every user as offline.
        secret: keys the unsubscribe links.
        public_url: the app's address, for links in email.
        relays: tenants' own mail relays; ``None`` mails every tenant through ``mailer``.
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
        relays: TenantRelays | None = None,
    ) -> None:
        self._db = db
        self._mailer = mailer
        self._relays = relays
        self._push = push
        self._presence = presence
        self._secret = secret
        self._public_url = public_url.rstrip("/")

    def handlers(self) -> dict[str, Handler | Batched]:
        """Push and email go in batches (one read, concurrent sends, outcomes recorded as they
        arrive); digests and dismissals one job at a time."""
        return {
            PUSH_JOB: Batched(self.send_pushes),
            DISMISS_JOB: self.send_dismissal,
            EMAIL_NOTIFICATION_JOB: Batched(self.send_emails),
            DIGEST_JOB: self.send_digest,
        }

    # -- push -----------------------------------------------------------------------------------

    async def send_pushes(self, jobs: list[ClaimedJob]) -> set[UUID]:
        """Push each notification to every subscription of its user, unless read meanwhile or (not
        critical) the user is online. ``jobs`` are of one tenant; returns the jobs settled."""
        tenant_id = jobs[0].tenant_id
        settled: set[UUID] = set()
        work: list[_Push] = []
        async with self._db.transaction(tenant_id=tenant_id) as session:
            loaded = await load_pending(session, map(_notification_of, jobs), "push")
            users = {note.user_id for note, _ in loaded.values()}
            subscriptions = await load_targets(session, users) if users and self._push is not None else {}
            waiting = [note for note, d in loaded.values() if d.status != "sent" and note.state in ("unread", "seen")]
            online = await self._online(tenant_id, {n.user_id for n in waiting if n.priority != "critical"})
            skipped: list[DeliveryUpdate] = []
            outcomes: list[tuple[ClaimedJob, JobOutcome]] = []
            for job in jobs:
                found = loaded.get(_notification_of(job))
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

            await record_as_they_come(self._db, tenant_id, sends, write)
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

    # -- email ----------------------------------------------------------------------------------

    async def send_emails(self, jobs: list[ClaimedJob]) -> set[UUID]:
        """Email each notification that is still unread, all at once over the mailer's pool; a 5xx
        bounces the address for good, a 4xx or a connection problem retries the job later.
        ``jobs`` are of one tenant; returns the jobs settled."""
        tenant_id = jobs[0].tenant_id
        settled: set[UUID] = set()
        mails: list[_Mail] = []
        async with self._db.transaction(tenant_id=tenant_id) as session:
            mailer = await self._mailer_for(session, tenant_id)
            loaded = await load_pending(session, map(_notification_of, jobs), "email")
            user_ids = {note.user_id for note, _ in loaded.values()}
            users = {u.id: u for u in (await session.scalars(select(User).where(User.id.in_(user_ids)))).all()}
            addresses = {u.email for u in users.values()}
            suppressed = set(
                (
                    await session.scalars(
                        select(EmailSuppression.address).where(EmailSuppression.address.in_(addresses))
                    )
                ).all()
            )
            keys = {note.category for note, _ in loaded.values()}
            categories = {
                c.key: c
                for c in (
                    await session.scalars(select(NotificationCategory).where(NotificationCategory.key.in_(keys)))
                ).all()
            }
            skipped: list[DeliveryUpdate] = []
            outcomes: list[tuple[ClaimedJob, JobOutcome]] = []
            for job in jobs:
                found = loaded.get(_notification_of(job))
                if found is None or found[1].status == "sent" or found[0].user_id not in users:
                    # Gone, or mailed by an earlier attempt whose worker died before settling it.
                    outcomes.append((job, DONE))
                    continue
                note, delivery = found
                user = users[note.user_id]
                skip = (
                    "read"
                    if note.state in ("read", "archived")
                    else "invalid_address"
                    if address_problem(user.email)
                    else "address_failed"
                    if user.email in suppressed
                    else None
                )
                if skip is not None:
                    skipped.append(DeliveryUpdate(id=delivery.id, status="skipped", reason=skip, attempts=0))
                    outcomes.append((job, DONE))
                    continue
                mails.append(self._compose(job, note, delivery.id, user, categories.get(note.category)))
            if outcomes:
                await write_outcomes(session, skipped, outcomes)
        settled.update(job.id for job, _ in outcomes)
        if mails:
            sends = [self._mail_one(mail, mailer) for mail in mails]

            async def write(session: AsyncSession, results: list[_MailResult]) -> None:
                settled.update(await self._write_mail_results(session, results))

            await record_as_they_come(self._db, tenant_id, sends, write)
        return settled

    def _compose(
        self,
        job: ClaimedJob,
        note: PendingNote,
        delivery_id: UUID,
        user: User,
        category: NotificationCategory | None,
    ) -> _Mail:
        """The notification's mail from its category's template in the user's locale; a locked
        category's mail has no unsubscribe link (it cannot be turned off)."""
        locked = category is not None and category.locked
        unsubscribe = "" if locked else self._unsubscribe_url(job.tenant_id, user.id, note.category)
        values = {
            "title": note.title,
            "body": note.body,
            "link": self._absolute(note.link or "/"),
            "category_name": category.name if category else note.category,
            "app_url": self._public_url,
            "unsubscribe_url": unsubscribe,
        }
        actions = [(a["label"], self._absolute(a["link"])) for a in note.actions if a.get("link")]
        mail = render_email(
            locale=user.locale, template=note.category, subject=note.title, values=values, actions=actions
        )
        headers: dict[str, str] = {}
        if unsubscribe:
            headers = {"List-Unsubscribe": f"<{unsubscribe}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
        return _Mail(
            job=job,
            delivery_id=delivery_id,
            address=user.email,
            subject=mail.subject,
            text=mail.text,
            html=mail.html,
            headers=headers,
        )

    async def _mail_one(self, mail: _Mail, mailer: EmailSender) -> _MailResult:
        """Send ``mail`` through ``mailer``; never raises (the outcome says what happened)."""
        try:
            await mailer.send(
                to=mail.address,
                subject=mail.subject,
                body=mail.text,
                html=mail.html,
                message_id=message_id_for(mail.job.id, mailer),
                headers=mail.headers,
            )
        except PermanentEmailFailure as exc:
            return _MailResult(mail=mail, status="bounced", reason=str(exc)[:500], smtp_code=exc.code)
        except (aiosmtplib.SMTPException, TimeoutError, OSError) as exc:
            return _MailResult(mail=mail, status="failed", reason=f"{type(exc).__name__}: {exc}"[:500])
        except Exception as exc:
            log.warning("email failed unexpectedly", exc_info=True)
            return _MailResult(mail=mail, status="failed", reason=f"{type(exc).__name__}: {exc}"[:500])
        return _MailResult(mail=mail, status="sent")

    async def _write_mail_results(self, session: AsyncSession, results: list[_MailResult]) -> list[UUID]:
        """Record each mail's outcome, suppress bounced addresses and settle the jobs (sent and
        bounced are done, a failure is retried with backoff): one transaction. Returns the jobs settled."""
        now = datetime.now(UTC)
        updates: list[DeliveryUpdate] = []
        outcomes: list[tuple[ClaimedJob, JobOutcome]] = []
        for result in results:
            mail = result.mail
            if result.status == "sent":
                logged = entry(now, "sent", target=mail.address)
                outcomes.append((mail.job, DONE))
            elif result.status == "bounced":
                await session.execute(
                    insert(EmailSuppression)
                    .values(
                        id=uuid7(),
                        tenant_id=mail.job.tenant_id,
                        address=mail.address,
                        reason=result.reason,
                        created_at=now,
                    )
                    .on_conflict_do_nothing()
                )
                logged = entry(now, "bounced", result.reason, smtp_code=result.smtp_code)
                outcomes.append((mail.job, DONE))
            else:
                logged = entry(now, "failed", result.reason)
                outcomes.append((mail.job, JobOutcome(status="retry", reason=result.reason)))
            reason = None if result.status == "sent" else result.reason
            updates.append(DeliveryUpdate(id=mail.delivery_id, status=result.status, reason=reason, entries=[logged]))
        await write_outcomes(session, updates, outcomes)
        return [job.id for job, _ in outcomes]

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
            mailer = await self._mailer_for(session, job.tenant_id)
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
        await self._deliver_mail(job, [d for _, d in unread], user, subject, mail.text, mail.html, None, mailer)

    async def _deliver_mail(
        self,
        job: ClaimedJob,
        delivery_ids: list[UUID],
        user: User,
        subject: str,
        text: str,
        html: str,
        unsubscribe_category: str | None,
        mailer: EmailSender,
    ) -> None:
        headers: dict[str, str] = {}
        if unsubscribe_category is not None:
            url = self._unsubscribe_url(job.tenant_id, user.id, unsubscribe_category)
            headers = {"List-Unsubscribe": f"<{url}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
        try:
            await mailer.send(
                to=user.email,
                subject=subject,
                body=text,
                html=html,
                message_id=message_id_for(job.id, mailer),
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

    async def _mailer_for(self, session: AsyncSession, tenant_id: UUID) -> EmailSender:
        """The tenant's own relay when it has one (:mod:`delivery.relays`), else the default mailer."""
        return self._mailer if self._relays is None else await self._relays.sender_for(session, tenant_id)

    async def _suppressed(self, session: AsyncSession, address: str) -> bool:
        return await session.scalar(select(EmailSuppression.id).where(EmailSuppression.address == address)) is not None

    def _absolute(self, link: str) -> str:
        return link if link.startswith("https://") else f"{self._public_url}{link}"

    def _unsubscribe_url(self, tenant_id: UUID, user_id: UUID, category: str) -> str:
        token = sign_unsubscribe(self._secret, UnsubscribeTarget(tenant_id, user_id, category))
        return f"{self._public_url}/api/v1/notifications/unsubscribe?token={token}"
