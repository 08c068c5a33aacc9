"""Two-step sign-in management: enrol a TOTP authenticator, confirm it, turn it off, renew recovery codes."""

from __future__ import annotations

from litestar import Controller, delete, get, post
from litestar.params import JSONBody

from api.auth.schemas import CodeRequest, MfaStatusResponse, RecoveryCodesResponse, TotpEnrollResponse
from api.auth.second_factor import SecondFactorService
from api.deps import CallerDep, DbSession, OriginDep, RuntimeDep


class MfaController(Controller):
    path = "/api/v1/auth/mfa"
    tags = ["auth"]

    @get("/", operation_id="MfaStatus")
    async def status(self, current_user: CallerDep, runtime: RuntimeDep, db_session: DbSession) -> MfaStatusResponse:
        """Whether two-step sign-in is on, and how many recovery codes are left."""
        enabled, left = await SecondFactorService(runtime=runtime).status(db_session, current_user)
        return MfaStatusResponse(totp_enabled=enabled, recovery_codes_left=left)

    @post("/totp", operation_id="MfaEnrollTotp", status_code=201)
    async def enroll(self, current_user: CallerDep, runtime: RuntimeDep, db_session: DbSession) -> TotpEnrollResponse:
        """Start enrolment: show ``otpauth_uri`` as a QR code, then confirm with a first code."""
        secret, uri = await SecondFactorService(runtime=runtime).enroll_totp(db_session, current_user)
        return TotpEnrollResponse(secret=secret, otpauth_uri=uri)

    @post("/totp/confirm", operation_id="MfaConfirmTotp", status_code=200)
    async def confirm(
        self,
        data: JSONBody[CodeRequest],
        current_user: CallerDep,
        runtime: RuntimeDep,
        db_session: DbSession,
        origin: OriginDep,
    ) -> RecoveryCodesResponse:
        """Turn two-step sign-in on; the recovery codes are shown this once."""
        codes = await SecondFactorService(runtime=runtime).confirm_totp(
            db_session, current_user, code=data.code, origin=origin
        )
        return RecoveryCodesResponse(recovery_codes=codes)

    @delete("/totp", operation_id="MfaDisableTotp", status_code=204)
    async def disable(
        self,
        data: JSONBody[CodeRequest],
        current_user: CallerDep,
        runtime: RuntimeDep,
        db_session: DbSession,
        origin: OriginDep,
    ) -> None:
        """Turn two-step sign-in off (needs a current code or a recovery code)."""
        await SecondFactorService(runtime=runtime).disable_totp(db_session, current_user, code=data.code, origin=origin)

    @post("/recovery-codes", operation_id="MfaRenewRecoveryCodes", status_code=200)
    async def renew(
        self,
        data: JSONBody[CodeRequest],
        current_user: CallerDep,
        runtime: RuntimeDep,
        db_session: DbSession,
        origin: OriginDep,
    ) -> RecoveryCodesResponse:
        """Replace all recovery codes (needs a current code)."""
        codes = await SecondFactorService(runtime=runtime).regenerate_recovery_codes(
            db_session, current_user, code=data.code, origin=origin
        )
        return RecoveryCodesResponse(recovery_codes=codes)
