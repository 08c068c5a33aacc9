"""Every job kind the delivery worker runs, and the handler for each."""

from __future__ import annotations

from typing import TYPE_CHECKING

from delivery.email import EMAIL_JOB, EmailSender, email_job_handler

if TYPE_CHECKING:
    from delivery.escalation import Escalation
    from delivery.relays import TenantRelays
    from delivery.worker import Batched, Handler


def job_handlers(
    *, mailer: EmailSender, escalation: Escalation | None = None, relays: TenantRelays | None = None
) -> dict[str, Handler | Batched]:
    """The handlers ``fieldhub worker`` runs, by job kind: plain email (through each tenant's own relay
    with ``relays``), plus the notification jobs (push, email, digest, dismissal) when ``escalation`` is given."""
    handlers: dict[str, Handler | Batched] = {EMAIL_JOB: email_job_handler(mailer, relays=relays)}
    if escalation is not None:
        handlers.update(escalation.handlers())
    return handlers
