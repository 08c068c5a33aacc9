"""Email jobs: a notification mailed while still unread, through the tenant's own relay when it has
one, and the digest of a user's low-priority mail.

A batch of one tenant is read in one transaction (settling what has nothing to send), the mails go
out concurrently over the mailer's pool, and each outcome is recorded with its job as soon as it is
known; digests run one job at a time.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING
from uuid import UUID

import aiosmtplib
import msgspec
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from uuid_utils.compat import uuid7

from delivery.batch_connection import BatchConnection, batch_connection
from delivery.email import EmailSender, PermanentEmailFailure, address_problem, message_id_for
from delivery.outbox import (
    DigestJob,
    notification_of,
)
from delivery.outcomes import DeliveryUpdate, entry, record, record_as_they_come, write_outcomes
from delivery.pending import PendingNote, load_pending
from delivery.templates import render_email
from delivery.unsubscribe import UnsubscribeTarget, sign_unsubscribe
from delivery.worker import DONE, JobOutcome
from persistence.models import (
    EmailSuppression,
    Notification,
    NotificationCategory,
    NotificationDelivery,
    User,
)

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from delivery.relays import TenantRelays
    from persistence.engine import Database

from persistence.jobs import ClaimedJob

log = logging.getLogger("fieldhub.escalation")


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


class MailJobs:
    """The notification email and digest job handlers.

    Args:
        db: the application's database.
        mailer: sends notification email and digests.
        secret: keys the unsubscribe links.
        public_url: the app's address, for links in email.
        relays: tenants' own mail relays; ``None`` mails every tenant through ``mailer``.
    """

    def __init__(
        self, *, db: Database, mailer: EmailSender, secret: str, public_url: str, relays: TenantRelays | None = None
    ) -> None:
        self._db = db
        self._mailer = mailer
        self._relays = relays
        self._secret = secret
        self._public_url = public_url.rstrip("/")

    async def send_emails(self, jobs: list[ClaimedJob]) -> set[UUID]:
        """Email each notification that is still unread, all at once over the mailer's pool; a 5xx
        bounces the address for good, a 4xx or a connection problem retries the job later.
        ``jobs`` are of one tenant; returns the jobs settled."""
        async with batch_connection(self._db) as held:
            return await self._send_emails_on(held, jobs)

    async def _send_emails_on(self, held: BatchConnection, jobs: list[ClaimedJob]) -> set[UUID]:
        tenant_id = jobs[0].tenant_id
        settled: set[UUID] = set()
        mails: list[_Mail] = []
        async with held.transaction(tenant_id=tenant_id) as session:
            mailer = await self._mailer_for(session, tenant_id)
            loaded = await load_pending(session, map(notification_of, jobs), "email")
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
                found = loaded.get(notification_of(job))
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

            await record_as_they_come(held, tenant_id, sends, write)
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
