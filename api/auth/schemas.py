"""Request and response bodies of the auth endpoints."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

import msgspec

from api.schemas import RequestBody, ResponseBody

Email = Annotated[str, msgspec.Meta(min_length=3, max_length=320, pattern=r"^[^@\s]+@[^@\s]+$")]
Secret = Annotated[str, msgspec.Meta(min_length=1, max_length=1024)]
Code = Annotated[str, msgspec.Meta(min_length=6, max_length=32)]
Slug = Annotated[str, msgspec.Meta(min_length=2, max_length=63, pattern=r"^[a-z0-9][a-z0-9-]*$")]


class LoginRequest(RequestBody):
    email: Email
    password: Secret
    tenant: Slug | None = None


class MfaLoginRequest(RequestBody):
    challenge: Secret
    code: Code


class LoginResponse(ResponseBody):
    """``status`` is ``ok`` with a session, or ``mfa_required`` with a challenge for ``/auth/login/mfa``."""

    status: Literal["ok", "mfa_required"]
    token: str | None = None
    expires_at: datetime | None = None
    challenge: str | None = None


class MeResponse(ResponseBody):
    id: UUID
    tenant_id: UUID
    email: str
    name: str
    roles: list[str]
    permissions: list[str]
    session_expires_at: datetime


class TicketResponse(ResponseBody):
    ticket: str
    expires_in: int


class TotpEnrollResponse(ResponseBody):
    secret: str
    otpauth_uri: str


class CodeRequest(RequestBody):
    code: Code


class RecoveryCodesResponse(ResponseBody):
    recovery_codes: list[str]


class MfaStatusResponse(ResponseBody):
    totp_enabled: bool
    recovery_codes_left: int


class ForgotPasswordRequest(RequestBody):
    email: Email
    tenant: Slug | None = None


class ResetPasswordRequest(RequestBody):
    token: Secret
    password: Secret


class ChangePasswordRequest(RequestBody):
    current_password: Secret
    new_password: Secret


class RevokedResponse(ResponseBody):
    sessions_revoked: int
