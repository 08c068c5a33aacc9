"""Tenants' own outbound mail relays: the settings with the password sealed at rest, and a pool of SMTP
connections per relay for the worker.

A tenant without a relay mails through ``FIELDHUB_SMTP_URL`` (the worker's default
:class:`~delivery.email.EmailSender`, untouched). A tenant with one mails through it: its pool is keyed by
the relay row and its ``updated_at``, so a saved change takes effect at the next batch, without a restart.
The password is sealed with the installation's keyring under the purpose ``smtp:<tenant id>`` (a sealed
value copied to another tenant's row does not open there) and ``fieldhub keys rewrap`` re-seals it.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import socket
from email.utils import formataddr
from typing import TYPE_CHECKING, Literal
from urllib.parse import quote

import msgspec
from sqlalchemy import select

from delivery.email import EmailSender
from persistence.models import MailRelay

if TYPE_CHECKING:
    from datetime import datetime
    from uuid import UUID

    from sqlalchemy.ext.asyncio import AsyncSession

    from persistence.encryption import Keyring
    from persistence.engine import Database

__all__ = [
    "RelayHostRefused",
    "RelaySecurity",
    "RelaySettings",
    "TenantRelays",
    "open_relay",
    "password_purpose",
    "relay_host_problem",
    "relay_sender",
    "send_test_mail",
]

log = logging.getLogger("fieldhub.email")

RelaySecurity = Literal["starttls", "starttls_required", "tls", "none"]
"""``starttls``: upgrade when the server offers it; ``starttls_required``: upgrade or refuse to send;
``tls``: implicit TLS from the first byte; ``none``: clear text, never upgraded."""

TEST_MAIL_SECONDS = 15.0
"""How long a test mail may take, connecting included, before the relay is reported unreachable."""

_SCHEME: dict[str, str] = {
    "starttls": "smtp://{at}",
    "starttls_required": "smtp+starttls://{at}",
    "tls": "smtps://{at}",
    "none": "smtp://{at}?starttls=never",
}


def password_purpose(tenant_id: UUID) -> str:
    """What a tenant's relay password is sealed for: ``smtp:<tenant id>``."""
    return f"smtp:{tenant_id}"


class RelaySettings(msgspec.Struct, frozen=True, kw_only=True):
    """A relay as the sender uses it, password in the clear: never stored, logged or returned."""

    host: str
    port: int
    security: RelaySecurity
    username: str | None
    password: str | None
    from_address: str
    from_name: str | None

    def __repr__(self) -> str:
        return f"RelaySettings(host={self.host!r}, port={self.port}, security={self.security!r})"

    @property
    def sender(self) -> str:
        """The ``From`` of its mail: ``Field Ops <ops@example.com>``, or the bare address without a name."""
        return formataddr((self.from_name or "", self.from_address))

    def url(self) -> str:
        """The relay as :class:`~delivery.email.EmailSender` takes it, e.g. ``smtps://u:p@mail.example.com:465``."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        credentials = ""
        if self.username:
            credentials = quote(self.username, safe="") + ":" + quote(self.password or "", safe="") + "@"
        return _SCHEME[self.security].format(at=f"{credentials}{host}:{self.port}")


class RelayHostRefused(Exception):
    """A tenant's relay names a host on the installation's own network (see :func:`relay_host_problem`)."""


async def relay_host_problem(host: str, port: int, *, private_hosts: bool) -> str | None:
    """Why ``host`` may not be a tenant's relay, or ``None``.

    A tenant admin chooses the host, and the test mail reports what answered, so a relay on a
    loopback, private, link-local or otherwise non-public address would let a tenant probe the
    installation's own network. Every address the name resolves to must be public unless the
    operator allows private hosts (``FIELDHUB_MAIL_RELAY_PRIVATE_HOSTS``: a relay inside the
    network, development, tests). A name that does not resolve now is let through: connecting
    fails and says so.
    """
    if private_hosts:
        return None
    try:
        found = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError:
        return None
    for *_, sockaddr in found:
        address = ipaddress.ip_address(sockaddr[0])
        if not address.is_global:
            return f"{host} is at {address}, not a public address"
    return None


def open_relay(relay: MailRelay, keyring: Keyring) -> RelaySettings:
    """The settings of a stored relay, its password opened.

    Raises:
        SealedValueError: the password opens with no key of the keyring.
    """
    password = None
    if relay.password_sealed is not None:
        password = keyring.open(relay.password_sealed, purpose=password_purpose(relay.tenant_id)).decode()
    return RelaySettings(
        host=relay.host,
        port=relay.port,
        security=relay.security,  # type: ignore[arg-type]  # the table's check constraint keeps it to the four
        username=relay.username,
        password=password,
        from_address=relay.from_address,
        from_name=relay.from_name,
    )


def relay_sender(settings: RelaySettings, *, pool_size: int = 4, timeout: float = 15.0) -> EmailSender:
    """An :class:`~delivery.email.EmailSender` through ``settings``; it connects at its first send."""
    return EmailSender(smtp_url=settings.url(), sender=settings.sender, timeout=timeout, pool_size=pool_size)


class _Pool(msgspec.Struct, frozen=True, kw_only=True):
    relay_id: UUID
    updated_at: datetime
    sender: EmailSender


class TenantRelays:
    """The sender for each tenant's mail: its own relay's pool when it has one, else ``default``.

    Args:
        keyring: opens the stored passwords.
        default: the sender of ``FIELDHUB_SMTP_URL``.
        pool_size: connections kept open per tenant relay.
        timeout: seconds for one whole send through a tenant relay, connecting included.
        db: where :meth:`sender_of` reads (callers holding a transaction use :meth:`sender_for`).
        private_hosts: whether a relay may be on a non-public address (:func:`relay_host_problem`).
    """

    def __init__(
        self,
        *,
        keyring: Keyring,
        default: EmailSender,
        pool_size: int = 4,
        timeout: float = 15.0,
        db: Database | None = None,
        private_hosts: bool = False,
    ) -> None:
        self._db = db
        self._private_hosts = private_hosts
        self._keyring = keyring
        self._default = default
        self._pool_size = pool_size
        self._timeout = timeout
        self._pools: dict[UUID, _Pool] = {}
        self._retired: list[EmailSender] = []
        self._closing: set[asyncio.Task[None]] = set()

    @property
    def default(self) -> EmailSender:
        return self._default

    async def sender_for(self, session: AsyncSession, tenant_id: UUID) -> EmailSender:
        """The sender of ``tenant_id``'s mail, read in ``session`` (a transaction as that tenant): one query.

        A relay saved or deleted since the last call replaces its pool; the old pool's idle connections
        are closed (sends still out on it finish first).

        Raises:
            SealedValueError: the relay's password opens with no key of the keyring (the mail waits:
                sending it through another relay than the tenant's would be worse).
            RelayHostRefused: the relay's host is (now) on a non-public address; the mail waits too.
        """
        relay = await session.scalar(select(MailRelay).where(MailRelay.tenant_id == tenant_id))
        pool = self._pools.get(tenant_id)
        if relay is None:
            if pool is not None:
                self._retire(self._pools.pop(tenant_id).sender)
            return self._default
        if pool is not None and pool.relay_id == relay.id and pool.updated_at == relay.updated_at:
            return pool.sender
        problem = await relay_host_problem(relay.host, relay.port, private_hosts=self._private_hosts)
        if problem is not None:
            raise RelayHostRefused(problem)
        sender = relay_sender(open_relay(relay, self._keyring), pool_size=self._pool_size, timeout=self._timeout)
        self._pools[tenant_id] = _Pool(relay_id=relay.id, updated_at=relay.updated_at, sender=sender)
        if pool is not None:
            self._retire(pool.sender)
        log.info("tenant mail relay in use", extra={"tenant_id": str(tenant_id), "relay_host": relay.host})
        return sender

    async def sender_of(self, tenant_id: UUID) -> EmailSender:
        """:meth:`sender_for` in a transaction of its own (the default sender when built without ``db``)."""
        if self._db is None:
            return self._default
        async with self._db.transaction(tenant_id=tenant_id) as session:
            return await self.sender_for(session, tenant_id)

    def _retire(self, sender: EmailSender) -> None:
        self._retired.append(sender)
        task = asyncio.get_running_loop().create_task(sender.close())
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    async def close(self) -> None:
        """Say goodbye to every tenant relay's connections (not the default sender's: its owner closes it)."""
        senders = [pool.sender for pool in self._pools.values()] + self._retired
        self._pools, self._retired = {}, []
        for sender in senders:
            with contextlib.suppress(Exception):
                await sender.close()


async def send_test_mail(settings: RelaySettings, *, to: str) -> None:
    """Send one short mail to ``to`` through ``settings`` on a connection of its own, then hang up
    (within :data:`TEST_MAIL_SECONDS`).

    Raises:
        PermanentEmailFailure: the relay refused the message or recipient with a 5xx.
        aiosmtplib.SMTPException, TimeoutError, OSError: connecting, TLS, logging in or a 4xx failed.
    """
    sender = relay_sender(settings, pool_size=1, timeout=TEST_MAIL_SECONDS)
    try:
        await sender.send(
            to=to,
            subject="fieldhub test mail",
            body=(
                "This mail came through your organisation's mail relay "
                f"({settings.host}:{settings.port}); notifications will too.\n"
            ),
        )
    finally:
        await sender.close()
