"""The tenant's mail relay: saved with its password sealed (``smtp:<tenant id>``), audited without it, and
tried with a test mail to the caller."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import aiosmtplib
from advanced_alchemy.repository import SQLAlchemyAsyncRepository
from advanced_alchemy.service import SQLAlchemyAsyncRepositoryService
from msgspec import UNSET
from sqlalchemy import select

from api.audit import Origin, record
from api.errors import AppError
from delivery.email import PermanentEmailFailure, address_problem
from delivery.relays import open_relay, password_purpose, relay_host_problem, send_test_mail
from persistence.models import MailRelay

if TYPE_CHECKING:
    from api.auth.principal import CurrentUser
    from api.mail_relay.schemas import MailRelayUpdate
    from persistence.encryption import Keyring

AUDITED = ("host", "port", "security", "username", "from_address", "from_name")
"""What a change's audit entry compares, before and after; the password is only said to be set, kept or removed."""


def not_set() -> AppError:
    return AppError(
        "mail_relay_not_set",
        "This organisation has no mail relay of its own; its mail goes through the installation's.",
        status_code=404,
    )


class MailRelayService(SQLAlchemyAsyncRepositoryService[MailRelay]):
    """The relay of the session's tenant (row-level security hides every other tenant's)."""

    class Repo(SQLAlchemyAsyncRepository[MailRelay]):
        model_type = MailRelay

    repository_type = Repo

    async def current(self, *, for_update: bool = False) -> MailRelay:
        """The tenant's relay.

        Raises:
            AppError: ``mail_relay_not_set`` (404).
        """
        query = select(MailRelay)
        if for_update:
            query = query.with_for_update()
        relay: MailRelay | None = await self.repository.session.scalar(query)
        if relay is None:
            raise not_set()
        return relay

    async def save(
        self,
        data: MailRelayUpdate,
        *,
        keyring: Keyring,
        actor: CurrentUser,
        origin: Origin,
        private_hosts: bool = False,
    ) -> MailRelay:
        """Create or replace the relay; audited with the fields before and after, never the password.

        Raises:
            AppError: ``invalid_email`` (422) for a ``from_address`` that cannot be mailed from;
                ``password_required`` (422) for a username without a password, or the reverse;
                ``mail_relay_host_not_allowed`` (422) for a host on a non-public address.
        """
        await _require_public(data.host, data.port, private_hosts=private_hosts)
        problem = address_problem(data.from_address)
        if problem is not None:
            raise AppError(
                "invalid_email",
                f"Not an email address: {problem}.",
                status_code=422,
                details={"field": "from_address"},
            )
        session = self.repository.session
        relay: MailRelay | None = await session.scalar(select(MailRelay).with_for_update())
        stored = relay.password_sealed if relay is not None else None
        sealed = stored
        if data.password is None:
            sealed = None
        elif data.password is not UNSET:
            sealed = keyring.seal(data.password.encode(), purpose=password_purpose(actor.tenant_id))
        if (data.username is None) != (sealed is None):
            raise AppError(
                "password_required",
                "A username needs a password, and a password a username.",
                status_code=422,
                details={"fields": ["username", "password"]},
            )
        fields: dict[str, Any] = {name: getattr(data, name) for name in AUDITED}
        before = {name: getattr(relay, name) for name in AUDITED} if relay is not None else None
        if relay is None:
            relay = await self.create(MailRelay(tenant_id=actor.tenant_id, password_sealed=sealed, **fields))
        else:
            for name, value in fields.items():
                setattr(relay, name, value)
            relay.password_sealed = sealed
            relay = await self.update(relay)
        record(
            session,
            tenant_id=actor.tenant_id,
            action="mail_relay.update",
            actor_user_id=actor.id,
            origin=origin,
            target_type="mail_relay",
            target_id=relay.id,
            details={"before": before, "after": fields, "password": _password_change(stored, sealed, data)},
        )
        return relay

    async def remove(self, *, actor: CurrentUser, origin: Origin) -> None:
        """Delete the relay (mail goes through the installation's again); audited.

        Raises:
            AppError: ``mail_relay_not_set`` (404).
        """
        relay = await self.current(for_update=True)
        await self.delete(relay.id)
        record(
            self.repository.session,
            tenant_id=actor.tenant_id,
            action="mail_relay.delete",
            actor_user_id=actor.id,
            origin=origin,
            target_type="mail_relay",
            target_id=relay.id,
            details={"host": relay.host, "port": relay.port},
        )

    async def send_test(self, *, keyring: Keyring, actor: CurrentUser, private_hosts: bool = False) -> MailRelay:
        """Send a test mail to the caller through the stored relay; nothing is stored.

        Raises:
            AppError: ``mail_relay_not_set`` (404); ``mail_relay_auth_failed`` (422) when the relay refuses
                the username or password; ``mail_relay_refused`` (422) for any other refusal;
                ``mail_relay_unreachable`` (422) when connecting or TLS fails or times out. Each carries
                the relay's reply in ``details.reply`` (and ``details.smtp_code``).
                ``mail_relay_host_not_allowed`` (422) when the host now resolves to a non-public address.
        """
        relay = await self.current()
        await _require_public(relay.host, relay.port, private_hosts=private_hosts)
        settings = open_relay(relay, keyring)
        try:
            await send_test_mail(settings, to=actor.email)
        except aiosmtplib.SMTPAuthenticationError as exc:
            raise _failed("mail_relay_auth_failed", "The relay refused the username or password", exc) from None
        except (aiosmtplib.SMTPConnectError, aiosmtplib.SMTPServerDisconnected, TimeoutError, OSError) as exc:
            raise _failed("mail_relay_unreachable", "The relay could not be reached", exc) from None
        except (aiosmtplib.SMTPException, PermanentEmailFailure) as exc:
            raise _failed("mail_relay_refused", "The relay refused the test mail", exc) from None
        return relay


async def _require_public(host: str, port: int, *, private_hosts: bool) -> None:
    problem = await relay_host_problem(host, port, private_hosts=private_hosts)
    if problem is not None:
        raise AppError(
            "mail_relay_host_not_allowed",
            f"A mail relay must be on a public address: {problem}.",
            status_code=422,
            details={"field": "host"},
        )


def _failed(code: str, message: str, exc: Exception) -> AppError:
    smtp_code = getattr(exc, "code", None)
    reply = str(getattr(exc, "message", "") or exc) or type(exc).__name__
    details: dict[str, Any] = {"reply": reply[:500]}
    if isinstance(smtp_code, int):
        details["smtp_code"] = smtp_code
    return AppError(code, f"{message}: {reply[:300]}", status_code=422, details=details)


def _password_change(stored: bytes | None, sealed: bytes | None, data: MailRelayUpdate) -> str:
    if data.password is UNSET:
        return "kept" if stored is not None else "none"
    if sealed is None:
        return "removed" if stored is not None else "none"
    return "changed" if stored is not None else "set"
