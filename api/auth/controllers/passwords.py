"""Forgotten password (emailed single-use link), reset with the token, and change while signed in."""

from __future__ import annotations

from litestar import Controller, Response, post
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


class PasswordController(Controller):
    path = "/api/v1/auth/password"
    tags = ["auth"]

    @post("/forgot", operation_id="ForgotPassword", exclude_from_auth=True, status_code=202)
    async def forgot(
        self, data: JSONBody[ForgotPasswordRequest], runtime: RuntimeDep, origin: OriginDep
    ) -> Response[bytes]:
        """Email a reset link if the account exists. Always 202, so it reveals nothing about who has an account."""
        await PasswordService(runtime=runtime).request_password_reset(
            email=data.email, tenant_slug=data.tenant, origin=origin
        )
        return Response(content=b"", status_code=202)

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
