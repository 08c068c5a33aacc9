"""The email sender: multipart mail over SMTP with aiosmtplib through a few reused connections, or to the log."""

from __future__ import annotations

import asyncio
import binascii
import contextlib
import email.policy
import logging
import re
import secrets
from collections.abc import Awaitable, Callable
from email.header import Header
from email.message import EmailMessage
from email.utils import formataddr, formatdate, parseaddr
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, unquote, urlsplit

import aiosmtplib
import msgspec

from delivery.errors import NotifyError
from persistence.jobs import ClaimedJob, enqueue

if TYPE_CHECKING:
    from uuid import UUID

    from sqlalchemy.ext.asyncio import AsyncSession

    from delivery.relays import TenantRelays

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
    ``smtps://`` (implicit TLS), ``smtp://...?starttls=never`` (clear text even if the server offers
    STARTTLS). User and password come from the URL.

    Args:
        smtp_url: the server; ``None`` logs each mail instead of sending it (development).
        sender: the ``From`` address.
        timeout: seconds for one whole send, connecting included.
        pool_size: connections kept open between sends.
    """

    def __init__(self, *, smtp_url: str | None, sender: str, timeout: float = 15.0, pool_size: int = 4) -> None:
        self._url = urlsplit(smtp_url) if smtp_url else None
        self._sender = sender
        name, address = parseaddr(sender)
        self._sender_header = formataddr((name, address), charset="utf-8")
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

    @property
    def _starttls_never(self) -> bool:
        url = self._url
        return url is not None and parse_qs(url.query).get("starttls", [""])[0] == "never"

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
        data = compose_message(
            sender=self._sender_header,
            to=to,
            subject=subject,
            text=body,
            html=html,
            message_id=message_id,
            headers=headers or {},
        )
        if data is None:
            # An address or header that needs more than ASCII: the standard library knows how.
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
            return
        await self._deliver(parseaddr(self._sender)[1], to, data, subject=subject)

    async def send_message(self, message: EmailMessage) -> None:
        """Send a prepared message; see :meth:`send` for what it raises."""
        # Flattened with our policy (RFC 5322's 998-character lines): aiosmtplib's own would fold
        # long headers to 78 columns, and a folded List-Unsubscribe URL is useless to mail clients.
        await self._deliver(
            parseaddr(str(message["From"]))[1],
            parseaddr(str(message["To"]))[1],
            message.as_bytes(policy=_POLICY),
            subject=str(message["Subject"]),
        )

    async def _deliver(self, sender: str, recipient: str, data: bytes, *, subject: str) -> None:
        if self._url is None:
            log.info("email not sent (no FIELDHUB_SMTP_URL)", extra={"to": recipient, "subject": subject})
            return
        async with self._slots, asyncio.timeout(self._timeout):
            client = self._idle.pop() if self._idle else None
            try:
                if client is None or not client.is_connected:
                    client = await self._connect()
                await client.sendmail(sender, [recipient], data)
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
            # True: STARTTLS or fail; None: STARTTLS when the server offers it; False: never (``?starttls=never``).
            start_tls=False if implicit or self._starttls_never else (True if self.starttls_required else None),
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


def _quoted_printable(text: str) -> str:
    """UTF-8 text as quoted-printable with CRLF line ends (lines of at most 76 characters)."""
    encoded = binascii.b2a_qp(text.replace("\r\n", "\n").replace("\r", "\n").encode("utf-8"))
    return encoded.decode("ascii").replace("\n", "\r\n")


def _header_value(value: str) -> str | None:
    """``value`` as it may stand in a header: itself if short, one-line ASCII; ``None`` otherwise."""
    if not value.isascii() or "\r" in value or "\n" in value or len(value) > 900:
        return None
    return value


def compose_message(
    *,
    sender: str,
    to: str,
    subject: str,
    text: str,
    html: str | None,
    message_id: str | None,
    headers: dict[str, str],
) -> bytes | None:
    """The message as SMTP sends it: plain text, or ``multipart/alternative`` with an HTML part,
    each part UTF-8 in quoted-printable; a non-ASCII subject as RFC 2047 encoded words.

    Written out directly: building an :class:`email.message.EmailMessage` costs several times the
    SMTP exchange itself. Returns ``None`` when an address or an extra header is not plain ASCII
    on one line (the caller then builds the message with the standard library).
    """
    fixed = [_header_value(sender), _header_value(to), *(_header_value(v) for v in headers.values())]
    if any(value is None for value in fixed) or (message_id is not None and _header_value(message_id) is None):
        return None
    if any(not name.isascii() or not name.replace("-", "").isalnum() for name in headers):
        return None
    title = _header_value(subject) or Header(subject, "utf-8").encode(linesep="\r\n")
    lines = [f"From: {sender}", f"To: {to}", f"Subject: {title}", f"Date: {formatdate(localtime=False)}"]
    if message_id:
        lines.append(f"Message-ID: {message_id}")
    lines += [f"{name}: {value}" for name, value in headers.items()]
    lines.append("MIME-Version: 1.0")
    plain = ['Content-Type: text/plain; charset="utf-8"', "Content-Transfer-Encoding: quoted-printable"]
    if html is None:
        lines += [*plain, "", _quoted_printable(text)]
    else:
        # Quoted-printable never holds "==", so the boundary cannot occur in a part.
        boundary = f"==fieldhub_{secrets.token_hex(12)}"
        lines += [
            f'Content-Type: multipart/alternative; boundary="{boundary}"',
            "",
            f"--{boundary}",
            *plain,
            "",
            _quoted_printable(text),
            f"--{boundary}",
            'Content-Type: text/html; charset="utf-8"',
            "Content-Transfer-Encoding: quoted-printable",
            "",
            _quoted_printable(html),
            f"--{boundary}--",
            "",
        ]
    return "\r\n".join(lines).encode("ascii")


EMAIL_JOB = "email.send"
_FORBIDDEN = re.compile(r"[\s<>,;\"()\[\]\\]|[\x00-\x1f\x7f]")


def address_problem(address: str) -> str | None:
    """Why ``address`` cannot be mailed to (``None`` if it can): one ``@`` between a local part of 1
    to 64 characters and a dotted domain, at most 254 in all, no spaces, line breaks or other
    characters that would need quoting or could inject a header."""
    local, at, domain = address.rpartition("@")
    if not at or not local or not domain:
        return "no local part and domain separated by @"
    if len(address) > 254 or len(local) > 64:
        return "too long"
    if _FORBIDDEN.search(address) or "@" in local:
        return "spaces, line breaks, quotes, brackets or a second @"
    labels = domain.split(".")
    if len(labels) < 2 or any(not label or label.startswith("-") or label.endswith("-") for label in labels):
        return "the domain is not a dotted host name"
    return None


def check_address(address: str) -> str:
    """``address`` if it can be mailed to.

    Raises:
        NotifyError: ``invalid_email`` saying why.
    """
    problem = address_problem(address)
    if problem is not None:
        raise NotifyError("invalid_email", f"Not an email address: {problem}.", details={"field": "to"})
    return address


class EmailJob(msgspec.Struct, frozen=True, kw_only=True):
    """The payload of an ``email.send`` job."""

    to: str
    subject: str
    body: str


async def enqueue_email(
    session: AsyncSession,
    *,
    tenant_id: UUID,
    to: str,
    subject: str,
    body: str,
    idempotency_key: str | None = None,
) -> bool:
    """Queue a plain-text mail in the caller's transaction (sent by ``fieldhub worker`` once it commits).

    Returns:
        False when a mail with this ``idempotency_key`` was queued before (nothing is added).

    Raises:
        NotifyError: ``invalid_email`` for an address that cannot be mailed to, ``invalid_notification``
            for an empty subject or one with a line break; nothing is queued then.
    """
    check_address(to)
    if not subject.strip() or len(subject) > 998 or "\r" in subject or "\n" in subject:
        raise NotifyError(
            "invalid_notification", "The subject must be one line of 1 to 998 characters.", details={"field": "subject"}
        )
    payload = msgspec.to_builtins(EmailJob(to=to, subject=subject, body=body))
    return await enqueue(session, tenant_id=tenant_id, kind=EMAIL_JOB, payload=payload, idempotency_key=idempotency_key)


def email_job_handler(
    sender: EmailSender, *, relays: TenantRelays | None = None
) -> Callable[[ClaimedJob], Awaitable[None]]:
    """The worker's handler for ``email.send`` jobs; the job id makes the ``Message-ID``, so retries are one mail.
    With ``relays``, a tenant with its own mail relay sends through it (:mod:`delivery.relays`).

    A job whose address cannot be mailed to (queued without :func:`enqueue_email`) is finished
    without a send: retrying could never help.
    """

    async def handle(job: ClaimedJob) -> None:
        mail = msgspec.convert(job.payload, EmailJob)
        problem = address_problem(mail.to)
        if problem is not None:
            log.warning("email job dropped: invalid address", extra={"job_id": str(job.id), "problem": problem})
            return
        mailer = sender if relays is None else await relays.sender_of(job.tenant_id)
        await mailer.send(to=mail.to, subject=mail.subject, body=mail.body, message_id=message_id_for(job.id, mailer))

    return handle


def message_id_for(job_id: object, sender: EmailSender) -> str:
    """A ``Message-ID`` derived from the job: ``<job-id@sender-domain>``, the same on every retry."""
    domain = sender.sender.rpartition("@")[2].strip("> ") or "fieldhub.local"
    return f"<{job_id}@{domain}>"
