"""The notification job kinds as the worker runs them: push if still unread and offline, email later,
digests, dismissals (:mod:`delivery.push_jobs`, :mod:`delivery.mail_jobs`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from delivery.mail_jobs import MailJobs
from delivery.outbox import DIGEST_JOB, DISMISS_JOB, EMAIL_NOTIFICATION_JOB, PUSH_JOB
from delivery.push_jobs import PresenceCheck, PushJobs, push_topic
from delivery.worker import Batched, Handler

if TYPE_CHECKING:
    from delivery.email import EmailSender
    from delivery.push import PushSender
    from delivery.relays import TenantRelays
    from persistence.engine import Database

__all__ = ["Escalation", "PresenceCheck", "push_topic"]


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
        self.pushes = PushJobs(db=db, push=push, presence=presence)
        self.mails = MailJobs(db=db, mailer=mailer, secret=secret, public_url=public_url, relays=relays)

    def handlers(self) -> dict[str, Handler | Batched]:
        """Push and email go in batches (one read, concurrent sends, outcomes recorded as they
        arrive); digests and dismissals one job at a time."""
        return {
            PUSH_JOB: Batched(self.pushes.send_pushes),
            DISMISS_JOB: self.pushes.send_dismissal,
            EMAIL_NOTIFICATION_JOB: Batched(self.mails.send_emails),
            DIGEST_JOB: self.mails.send_digest,
        }
