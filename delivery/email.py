"""The email sender: plain-text mail over SMTP with aiosmtplib, or to the log when no server is set."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from email.message import EmailMessage
from urllib.parse import unquote, urlsplit

import aiosmtplib
import msgspec

from persistence.jobs import ClaimedJob

log = logging.getLogger("fieldhub.email")


class EmailSender:
    """Send mail through the SMTP server at ``smtp_url`` (``smtp://`` or ``smtps://``).

    Args:
        smtp_url: the server; ``None`` logs each mail instead of sending it (development).
        sender: the ``From`` address.
        timeout: seconds for the whole SMTP exchange.
    """

    def __init__(self, *, smtp_url: str | None, sender: str, timeout: float = 15.0) -> None:
        self._url = urlsplit(smtp_url) if smtp_url else None
        self._sender = sender
        self._timeout = timeout

    async def send(self, *, to: str, subject: str, body: str) -> None:
        """Send one message; returns once the server accepted it.

        Raises:
            aiosmtplib.SMTPException: the server refused or could not be reached.
        """
        message = EmailMessage()
        message["From"] = self._sender
        message["To"] = to
        message["Subject"] = subject
        message.set_content(body)
        if self._url is None:
            log.info("email not sent (no FIELDHUB_SMTP_URL)", extra={"to": to, "subject": subject})
            return
        url = self._url
        await aiosmtplib.send(
            message,
            hostname=url.hostname or "localhost",
            port=url.port or (465 if url.scheme == "smtps" else 25),
            username=unquote(url.username) if url.username else None,
            password=unquote(url.password) if url.password else None,
            use_tls=url.scheme == "smtps",
            start_tls=None if url.scheme == "smtp" else False,
            timeout=self._timeout,
        )


EMAIL_JOB = "email.send"


class EmailJob(msgspec.Struct, frozen=True, kw_only=True):
    """The payload of an ``email.send`` job."""

    to: str
    subject: str
    body: str


def email_job_handler(sender: EmailSender) -> Callable[[ClaimedJob], Awaitable[None]]:
    """The worker's handler for ``email.send`` jobs."""

    async def handle(job: ClaimedJob) -> None:
        mail = msgspec.convert(job.payload, EmailJob)
        await sender.send(to=mail.to, subject=mail.subject, body=mail.body)

    return handle
