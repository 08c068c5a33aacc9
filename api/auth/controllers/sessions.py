"""Sign in (password, then second factor), sign out, sign out everywhere, who am I, WebSocket tickets."""

from __future__ import annotations

from uuid import UUID

from litestar import Controller, Response, get, post
from litestar.datastructures import Cookie
from litestar.params import JSONBody

from api.audit import record
from api.auth.middleware import SESSION_COOKIE
from api.auth.principal import CurrentUser
from api.auth.schemas import (
    LoginRequest,
    LoginResponse,
    MeResponse,
    MfaLoginRequest,
    RevokedResponse,
    TicketResponse,
)
from api.auth.services import AuthService, IssuedSession
from api.deps import CallerDep, DbSession, OriginDep, RuntimeDep


def _session_response(runtime: RuntimeDep, issued: IssuedSession) -> Response[LoginResponse]:
    secure = runtime.settings.public_url.startswith("https://")
    cookie = Cookie(
        key=SESSION_COOKIE,
        value=issued.token,
        httponly=True,
        secure=secure,
        samesite="lax",
        path="/",
        max_age=runtime.settings.session_ttl_hours * 3600,
    )
    body = LoginResponse(status="ok", token=issued.token, expires_at=issued.expires_at)
    return Response(body, cookies=[cookie])


def _signed_out() -> Cookie:
    return Cookie(key=SESSION_COOKIE, value="", max_age=0, httponly=True, samesite="lax", path="/")


class SessionController(Controller):
    path = "/api/v1/auth"
    tags = ["auth"]

    @post("/login", operation_id="Login", exclude_from_auth=True, status_code=200)
    async def login(
        self, data: JSONBody[LoginRequest], runtime: RuntimeDep, origin: OriginDep
    ) -> Response[LoginResponse]:
        """Check email and password; returns a session (also set as an HttpOnly cookie) or an MFA challenge."""
        outcome = await AuthService(runtime=runtime).login(
            email=data.email, password=data.password, tenant_slug=data.tenant, origin=origin
        )
        if isinstance(outcome, IssuedSession):
            return _session_response(runtime, outcome)
        return Response(
            LoginResponse(status="mfa_required", challenge=outcome.challenge, expires_at=outcome.expires_at)
        )

    @post("/login/mfa", operation_id="LoginMfa", exclude_from_auth=True, status_code=200)
    async def login_mfa(
        self, data: JSONBody[MfaLoginRequest], runtime: RuntimeDep, origin: OriginDep
    ) -> Response[LoginResponse]:
        """Complete a sign-in with a TOTP code or a recovery code."""
        issued = await AuthService(runtime=runtime).complete_mfa(
            challenge=data.challenge, code=data.code, origin=origin
        )
        return _session_response(runtime, issued)

    @post("/logout", operation_id="Logout", status_code=200)
    async def logout(
        self, current_user: CallerDep, runtime: RuntimeDep, db_session: DbSession, origin: OriginDep
    ) -> Response[RevokedResponse]:
        """Revoke this session."""
        return await self._revoke(current_user, runtime, db_session, origin, only=current_user.session_id)

    @post("/logout-all", operation_id="LogoutEverywhere", status_code=200)
    async def logout_all(
        self, current_user: CallerDep, runtime: RuntimeDep, db_session: DbSession, origin: OriginDep
    ) -> Response[RevokedResponse]:
        """Revoke every session of the caller, this one included."""
        return await self._revoke(current_user, runtime, db_session, origin, only=None)

    async def _revoke(
        self,
        user: CurrentUser,
        runtime: RuntimeDep,
        db_session: DbSession,
        origin: OriginDep,
        *,
        only: UUID | None,
    ) -> Response[RevokedResponse]:
        service = AuthService(runtime=runtime)
        revoked = await service.revoke_sessions(db_session, user_id=user.id, only=only)
        record(
            db_session,
            tenant_id=user.tenant_id,
            action="auth.logout" if only else "auth.logout_all",
            actor_user_id=user.id,
            origin=origin,
            details={"sessions_revoked": len(revoked)},
        )
        await db_session.commit()
        await service.announce_revoked(revoked)
        return Response(RevokedResponse(sessions_revoked=len(revoked)), cookies=[_signed_out()])

    @get("/me", operation_id="Me")
    async def me(self, current_user: CallerDep) -> MeResponse:
        """The signed-in user, their roles and permissions."""
        return MeResponse(
            id=current_user.id,
            tenant_id=current_user.tenant_id,
            email=current_user.email,
            name=current_user.name,
            roles=list(current_user.roles),
            permissions=sorted(current_user.permissions),
            session_expires_at=current_user.expires_at,
        )

    @post("/ws-ticket", operation_id="IssueWsTicket", status_code=201)
    async def ws_ticket(self, current_user: CallerDep, runtime: RuntimeDep) -> TicketResponse:
        """A single-use ticket for ``GET /ws?ticket=...``, valid for a few seconds."""
        ticket = await AuthService(runtime=runtime).issue_ws_ticket(current_user)
        return TicketResponse(ticket=ticket, expires_in=runtime.settings.ws_ticket_ttl_seconds)
