"""Password changes: the emailed single-use reset, and a change made while signed in."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

import msgspec
from sqlalchemy import select
from uuid_utils.compat import uuid7

from api.audit import Origin, record
from api.auth.passwords import check_policy, hash_password, verify_password
from api.auth.principal import CurrentUser
from api.auth.services import AuthService, find_login, utcnow
from api.errors import AppError
from delivery.email import EMAIL_JOB, EmailJob
from persistence.jobs import enqueue
from persistence.models import PasswordReset, User

if TYPE_CHECKING:
    from uuid import UUID

    from sqlalchemy.ext.asyncio import AsyncSession

    from api.runtime import Runtime

RESET_TTL = timedelta(minutes=30)
RESET_MAIL = (
    "Someone asked to reset the password of your fieldhub account.\n\n"
    "To choose a new password, open this link within 30 minutes:\n{link}\n\n"
    "If it was not you, ignore this email; your password stays as it is.\n"
)


class PasswordService:
    """Reset and change passwords; either revokes sessions, which the hub then closes."""

    def __init__(self, *, runtime: Runtime) -> None:
        self._rt = runtime
        self._auth = AuthService(runtime=runtime)

    async def request_password_reset(self, *, email: str, tenant_slug: str | None, origin: Origin) -> None:
        """Create a single-use reset token and, in the same transaction, the job that mails it.

        Does nothing, and says nothing different, when there is no such active account.
        """
        rows = await find_login(self._rt.db, email=email, tenant_slug=tenant_slug)
        if len(rows) != 1:
            return
        tenant_id, user_id = rows[0]
        async with self._rt.db.transaction(tenant_id=tenant_id) as session:
            user = await session.get_one(User, user_id)
            if user.status != "active":
                return
            token, digest = self._rt.keys.issue(tenant_id)
            reset = PasswordReset(
                id=uuid7(), tenant_id=tenant_id, user_id=user_id, token_hash=digest, expires_at=utcnow() + RESET_TTL
            )
            session.add(reset)
            link = f"{self._rt.settings.public_url}/#reset-password?token={token}"
            await enqueue(
                session,
                tenant_id=tenant_id,
                kind=EMAIL_JOB,
                payload=msgspec.to_builtins(
                    EmailJob(to=user.email, subject="Reset your fieldhub password", body=RESET_MAIL.format(link=link))
                ),
                idempotency_key=f"password-reset:{reset.id}",
            )
            record(
                session,
                tenant_id=tenant_id,
                action="auth.password.reset_requested",
                actor_user_id=user_id,
                origin=origin,
            )

    async def reset_password(self, *, token: str, new_password: str, origin: Origin) -> None:
        """Set a new password with a reset token, and sign the user out everywhere.

        Raises:
            AppError: ``invalid_token`` (400) when unknown, used or expired; ``weak_password`` (422).
        """
        check_policy(new_password)
        tenant_id = self._rt.keys.tenant_of(token)
        invalid = AppError("invalid_token", "This reset link is invalid or has expired.", status_code=400)
        if tenant_id is None:
            raise invalid
        new_hash = await hash_password(new_password)
        async with self._rt.db.transaction(tenant_id=tenant_id) as session:
            reset = await session.scalar(
                select(PasswordReset).where(PasswordReset.token_hash == self._rt.keys.digest(token)).with_for_update()
            )
            if reset is None or reset.used_at is not None or reset.expires_at <= utcnow():
                raise invalid
            reset.used_at = utcnow()
            user = await session.get_one(User, reset.user_id)
            user.password_hash = new_hash
            user.failed_logins = 0
            user.locked_until = None
            revoked = await self._auth.revoke_sessions(session, user_id=user.id)
            record(
                session,
                tenant_id=tenant_id,
                action="auth.password.reset",
                actor_user_id=user.id,
                origin=origin,
                details={"sessions_revoked": len(revoked)},
            )
        await self._auth.announce_revoked(revoked)

    async def change_password(
        self, session: AsyncSession, user: CurrentUser, *, current: str, new: str, origin: Origin
    ) -> list[UUID]:
        """Change a password knowing the current one; other sessions are revoked (returned)."""
        check_policy(new)
        row = await session.get_one(User, user.id, with_for_update=True)
        if not await verify_password(row.password_hash, current):
            raise AppError("invalid_credentials", "The current password is wrong.", status_code=403)
        row.password_hash = await hash_password(new)
        revoked = await self._auth.revoke_sessions(session, user_id=user.id, keep=user.session_id)
        record(
            session,
            tenant_id=user.tenant_id,
            action="auth.password.change",
            actor_user_id=user.id,
            origin=origin,
        )
        return revoked
