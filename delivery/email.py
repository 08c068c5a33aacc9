"""The email sender: multipart mail over SMTP with aiosmtplib through a few reused connections, or to the log."""

from __future__ import annotations

import asyncio
import contextlib
import email.policy
import logging
from collections.abc import Awaitable, Callable
from email.message import EmailMessage
from email.utils import formatdate, parseaddr
from urllib.parse import parse_qs, unquote, urlsplit

import aiosmtplib
import msgspec

from persistence.jobs import ClaimedJob

log = logging.getLogger("fieldhub.email")
_POLICY = email.policy.SMTP.clone(max_line_length=998)  # linesep is CRLF already


class PermanentEmailFailure(Exception):
    """The server refused the message for good (a 5xx reply): retrying cannot help.

    Args:
        code: the SMTP reply code.
        message: the server's text.
    """

    def __init__(self, code: int, message: str) -> None:
        super().__init__(f"{code} {message}")
        self.code = code
        self.message = message


class EmailSender:
    """Send mail through the SMTP server at ``smtp_url``, keeping up to ``pool_size`` connections open.

    URL forms: ``smtp://host:port`` (STARTTLS if the server offers it), ``smtp+starttls://`` or
    ``smtp://...?starttls=required`` (STARTTLS required: refuses to send in clear text), and
    ``smtps://`` (implicit TLS). User and password come from the URL.

    Args:
        smtp_url: the server; ``None`` logs each mail instead of sending it (development).
        sender: the ``From`` address.
        timeout: seconds for one whole send, connecting included.
        pool_size: connections kept open between sends.
    """

    def __init__(self, *, smtp_url: str | None, sender: str, timeout: float = 15.0, pool_size: int = 4) -> None:
        self._url = urlsplit(smtp_url) if smtp_url else None
        self._sender = sender
        self._timeout = timeout
        self._idle: list[aiosmtplib.SMTP] = []
        self._slots = asyncio.Semaphore(pool_size)
        self._pool_size = pool_size

    @property
    def sender(self) -> str:
        return self._sender

    @property
    def starttls_required(self) -> bool:
        url = self._url
        if url is None:
            return False
        return url.scheme == "smtp+starttls" or parse_qs(url.query).get("starttls", [""])[0] in ("required", "require")

    async def send(
        self,
        *,
        to: str,
        subject: str,
        body: str,
        html: str | None = None,
        message_id: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        """Send one message (plain text, plus an HTML alternative if given); returns once accepted.

        Raises:
            PermanentEmailFailure: a 5xx reply to the recipient or the message.
            aiosmtplib.SMTPException, TimeoutError, OSError: a 4xx reply or a connection problem
                (worth retrying).
        """
        # RFC 5322's hard limit, not the 78-column default: a long List-Unsubscribe URL must stay
        # one unencoded line, or mail clients cannot use it.
        message = EmailMessage(policy=_POLICY)
        message["From"] = self._sender
        message["To"] = to
        message["Subject"] = subject
        message["Date"] = formatdate(localtime=False)
        if message_id:
            message["Message-ID"] = message_id
        for name, value in (headers or {}).items():
            message[name] = value
        message.set_content(body)
        if html is not None:
            message.add_alternative(html, subtype="html")
        await self.send_message(message)

    async def send_message(self, message: EmailMessage) -> None:
        """Send a prepared message; see :meth:`send` for what it raises."""
        if self._url is None:
            log.info(
                "email not sent (no FIELDHUB_SMTP_URL)", extra={"to": message["To"], "subject": message["Subject"]}
            )
            return
        async with self._slots, asyncio.timeout(self._timeout):
            client = self._idle.pop() if self._idle else None
            try:
                if client is None or not client.is_connected:
                    client = await self._connect()
                # Flattened here with our policy: aiosmtplib's own would fold long headers to 78 columns.
                await client.sendmail(
                    parseaddr(str(message["From"]))[1],
                    [parseaddr(str(message["To"]))[1]],
                    message.as_bytes(policy=_POLICY),
                )
            except aiosmtplib.SMTPRecipientsRefused as exc:
                self._keep(client)
                refusal = exc.recipients[0]
                raise self._classified(refusal.code, refusal.message, exc) from exc
            except (aiosmtplib.SMTPDataError, aiosmtplib.SMTPSenderRefused, aiosmtplib.SMTPRecipientRefused) as exc:
                self._keep(client)
                raise self._classified(exc.code, exc.message, exc) from exc
            except BaseException:
                await self._discard(client)
                raise
            self._keep(client)

    def _classified(self, code: int, message: str, exc: Exception) -> Exception:
        return PermanentEmailFailure(code, message) if 500 <= code < 600 else exc

    async def _connect(self) -> aiosmtplib.SMTP:
        url = self._url
        assert url is not None
        implicit = url.scheme == "smtps"
        client = aiosmtplib.SMTP(
            hostname=url.hostname or "localhost",
            port=url.port or (465 if implicit else 25),
            username=unquote(url.username) if url.username else None,
            password=unquote(url.password) if url.password else None,
            use_tls=implicit,
            # True: STARTTLS or fail; None: STARTTLS when the server offers it.
            start_tls=False if implicit else (True if self.starttls_required else None),
            timeout=self._timeout,
        )
        await client.connect()
        return client

    def _keep(self, client: aiosmtplib.SMTP | None) -> None:
        if client is not None and client.is_connected and len(self._idle) < self._pool_size:
            self._idle.append(client)

    async def _discard(self, client: aiosmtplib.SMTP | None) -> None:
        if client is not None:
            client.close()

    async def close(self) -> None:
        """Say goodbye to every pooled connection."""
        idle, self._idle = self._idle, []
        for client in idle:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(client.quit(), 2)


EMAIL_JOB = "email.send"


class EmailJob(msgspec.Struct, frozen=True, kw_only=True):
    """The payload of an ``email.send`` job."""

    to: str
    subject: str
    body: str


def email_job_handler(sender: EmailSender) -> Callable[[ClaimedJob], Awaitable[None]]:
    """The worker's handler for ``email.send`` jobs; the job id makes the ``Message-ID``, so retries are one mail."""

    async def handle(job: ClaimedJob) -> None:
        mail = msgspec.convert(job.payload, EmailJob)
        await sender.send(to=mail.to, subject=mail.subject, body=mail.body, message_id=message_id_for(job.id, sender))

    return handle


def message_id_for(job_id: object, sender: EmailSender) -> str:
    """A ``Message-ID`` derived from the job: ``<job-id@sender-domain>``, the same on every retry."""
    domain = sender.sender.rpartition("@")[2].strip("> ") or "fieldhub.local"
    return f"<{job_id}@{domain}>"
