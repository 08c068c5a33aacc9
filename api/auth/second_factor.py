"""The second factor: TOTP enrolment, confirmation and removal, recovery codes, and checking a code."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlalchemy import delete, func, select, update

from api.audit import Origin, record
from api.auth.mfa import TotpVault, matching_step, new_recovery_codes, new_secret, provisioning_uri, recovery_digest
from api.auth.principal import CurrentUser
from api.errors import AppError
from persistence.models import MfaRecoveryCode, MfaTotp

if TYPE_CHECKING:
    from uuid import UUID

    from sqlalchemy.ext.asyncio import AsyncSession

    from api.runtime import Runtime


def _invalid_code() -> AppError:
    return AppError("invalid_code", "That code is wrong or was already used.", status_code=401)


class SecondFactorService:
    """TOTP and recovery codes of one tenant's users, inside the caller's transaction."""

    def __init__(self, *, runtime: Runtime) -> None:
        self._vault = TotpVault(keyring=runtime.settings.keyring())

    async def enabled(self, session: AsyncSession, user_id: UUID) -> bool:
        found = await session.scalar(
            select(MfaTotp.id).where(MfaTotp.user_id == user_id, MfaTotp.confirmed_at.is_not(None))
        )
        return found is not None

    async def accept(self, session: AsyncSession, user_id: UUID, code: str) -> bool:
        """Consume ``code`` as a TOTP code (newer than the last one used) or an unused recovery code."""
        totp = await session.scalar(
            select(MfaTotp).where(MfaTotp.user_id == user_id, MfaTotp.confirmed_at.is_not(None)).with_for_update()
        )
        if totp is None:
            return False
        code = code.strip()
        step = matching_step(self._vault.open(totp.secret_encrypted), code, after_step=totp.last_used_step)
        if step is not None:
            totp.last_used_step = step
            return True
        spent = await session.scalar(
            update(MfaRecoveryCode)
            .where(
                MfaRecoveryCode.user_id == user_id,
                MfaRecoveryCode.code_hash == recovery_digest(code),
                MfaRecoveryCode.used_at.is_(None),
            )
            .values(used_at=datetime.now(UTC))
            .returning(MfaRecoveryCode.id)
        )
        return spent is not None

    async def enroll_totp(self, session: AsyncSession, user: CurrentUser) -> tuple[str, str]:
        """Start (or restart) TOTP enrolment; returns ``(secret, otpauth URI)``. Not active until confirmed."""
        existing = await session.scalar(select(MfaTotp).where(MfaTotp.user_id == user.id))
        if existing is not None and existing.confirmed_at is not None:
            raise AppError("mfa_already_enabled", "Two-step sign-in is already on.", status_code=409)
        secret = new_secret()
        if existing is None:
            session.add(MfaTotp(tenant_id=user.tenant_id, user_id=user.id, secret_encrypted=self._vault.seal(secret)))
        else:
            existing.secret_encrypted = self._vault.seal(secret)
            existing.last_used_step = 0
        return secret, provisioning_uri(secret, account=user.email)

    async def confirm_totp(self, session: AsyncSession, user: CurrentUser, *, code: str, origin: Origin) -> list[str]:
        """Turn TOTP on with a first valid code; returns fresh recovery codes (shown once)."""
        totp = await session.scalar(select(MfaTotp).where(MfaTotp.user_id == user.id).with_for_update())
        if totp is None or totp.confirmed_at is not None:
            raise AppError("mfa_not_pending", "Start enrolment first.", status_code=409)
        step = matching_step(self._vault.open(totp.secret_encrypted), code.strip(), after_step=totp.last_used_step)
        if step is None:
            raise _invalid_code()
        totp.last_used_step = step
        totp.confirmed_at = datetime.now(UTC)
        codes = await self._replace_recovery_codes(session, user)
        record(session, tenant_id=user.tenant_id, action="auth.mfa.enabled", actor_user_id=user.id, origin=origin)
        return codes

    async def disable_totp(self, session: AsyncSession, user: CurrentUser, *, code: str, origin: Origin) -> None:
        """Turn TOTP off; needs a valid TOTP or recovery code."""
        if not await self.accept(session, user.id, code):
            raise _invalid_code()
        totp = await session.scalar(select(MfaTotp).where(MfaTotp.user_id == user.id))
        await session.delete(totp)
        await session.execute(delete(MfaRecoveryCode).where(MfaRecoveryCode.user_id == user.id))
        record(
            session,
            tenant_id=user.tenant_id,
            action="auth.mfa.disabled",
            actor_user_id=user.id,
            origin=origin,
        )

    async def regenerate_recovery_codes(
        self, session: AsyncSession, user: CurrentUser, *, code: str, origin: Origin
    ) -> list[str]:
        if not await self.accept(session, user.id, code):
            raise _invalid_code()
        codes = await self._replace_recovery_codes(session, user)
        record(
            session,
            tenant_id=user.tenant_id,
            action="auth.mfa.recovery_codes",
            actor_user_id=user.id,
            origin=origin,
        )
        return codes

    async def _replace_recovery_codes(self, session: AsyncSession, user: CurrentUser) -> list[str]:
        await session.execute(delete(MfaRecoveryCode).where(MfaRecoveryCode.user_id == user.id))
        codes = new_recovery_codes()
        session.add_all(
            MfaRecoveryCode(tenant_id=user.tenant_id, user_id=user.id, code_hash=recovery_digest(c)) for c in codes
        )
        return codes

    async def status(self, session: AsyncSession, user: CurrentUser) -> tuple[bool, int]:
        """Whether TOTP is on, and how many recovery codes are left."""
        enabled = await session.scalar(
            select(MfaTotp.id).where(MfaTotp.user_id == user.id, MfaTotp.confirmed_at.is_not(None))
        )
        left = await session.scalar(
            select(func.count()).where(MfaRecoveryCode.user_id == user.id, MfaRecoveryCode.used_at.is_(None))
        )
        return enabled is not None, int(left or 0)
