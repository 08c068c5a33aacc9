"""Forgotten password (emailed single-use link), reset with the token, and change while signed in."""

from __future__ import annotations

import logging

from litestar import Controller, Response, post
from litestar.background_tasks import BackgroundTask
from litestar.params import JSONBody

from api.auth.password_changes import PasswordService
from api.auth.schemas import (
    ChangePasswordRequest,
    ForgotPasswordRequest,
    ResetPasswordRequest,
    RevokedResponse,
)
from api.auth.services import AuthService
from api.deps import CallerDep, DbSession, OriginDep, RuntimeDep

log = logging.getLogger("fieldhub.auth")


async def _mail_reset_link(runtime: RuntimeDep, address: str, token: str) -> None:
    link = f"{runtime.settings.public_url}/#reset-password?token={token}"
    try:
        await runtime.mailer.send(
            to=address,
            subject="Reset your fieldhub password",
            body=(
                "Someone asked to reset the password of your fieldhub account.\n\n"
                f"To choose a new password, open this link within 30 minutes:\n{link}\n\n"
                "If it was not you, ignore this email; your password stays as it is.\n"
            ),
        )
    except Exception:
        log.exception("password reset email could not be sent")


class PasswordController(Controller):
    path = "/api/v1/auth/password"
    tags = ["auth"]

    @post("/forgot", operation_id="ForgotPassword", exclude_from_auth=True, status_code=202)
    async def forgot(
        self, data: JSONBody[ForgotPasswordRequest], runtime: RuntimeDep, origin: OriginDep
    ) -> Response[bytes]:
        """Email a reset link if the account exists. Always 202, so it reveals nothing about who has an account."""
        found = await PasswordService(runtime=runtime).request_password_reset(
            email=data.email, tenant_slug=data.tenant, origin=origin
        )
        # Mailing after the response keeps the timing the same whether or not the account exists.
        task = BackgroundTask(_mail_reset_link, runtime, *found) if found else None
        return Response(content=b"", status_code=202, background=task)

    @post("/reset", operation_id="ResetPassword", exclude_from_auth=True, status_code=204)
    async def reset(self, data: JSONBody[ResetPasswordRequest], runtime: RuntimeDep, origin: OriginDep) -> None:
        """Set a new password with the emailed token; every session of the account is revoked."""
        await PasswordService(runtime=runtime).reset_password(
            token=data.token, new_password=data.password, origin=origin
        )

    @post("/change", operation_id="ChangePassword", status_code=200)
    async def change(
        self,
        data: JSONBody[ChangePasswordRequest],
        current_user: CallerDep,
        runtime: RuntimeDep,
        db_session: DbSession,
        origin: OriginDep,
    ) -> RevokedResponse:
        """Change the password knowing the current one; other sessions are signed out."""
        service = PasswordService(runtime=runtime)
        revoked = await service.change_password(
            db_session, current_user, current=data.current_password, new=data.new_password, origin=origin
        )
        await db_session.commit()
        await AuthService(runtime=runtime).announce_revoked(revoked)
        return RevokedResponse(sessions_revoked=len(revoked))
