"""Authentication middleware: a session cookie (browsers) or a Bearer token (other clients) becomes ``request.user``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult

from api.auth.principal import AuthMethod
from api.auth.services import AuthService
from api.logs import bind_user

if TYPE_CHECKING:
    from litestar.connection import ASGIConnection

    from api.runtime import Runtime

SESSION_COOKIE = "fieldhub_session"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def presented_token(connection: ASGIConnection[Any, Any, Any, Any]) -> tuple[str, AuthMethod] | None:
    """The session token a request or upgrade carries: a Bearer header first, else the cookie."""
    scheme, _, credentials = connection.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        return credentials.strip(), "bearer"
    cookie = connection.cookies.get(SESSION_COOKIE)
    return (cookie, "cookie") if cookie else None


class SessionAuthMiddleware(AbstractAuthenticationMiddleware):
    """Resolve the caller's session; handlers marked ``exclude_from_auth`` skip this.

    A cookie-authenticated request that changes something must come from an allowed origin
    (SameSite=Lax already stops most cross-site requests; this closes the rest).
    """

    async def authenticate_request(self, connection: ASGIConnection[Any, Any, Any, Any]) -> AuthenticationResult:
        runtime: Runtime = connection.app.state.runtime
        presented = presented_token(connection)
        if presented is None:
            raise NotAuthorizedException("Sign in first.")
        token, via = presented
        if via == "cookie" and connection.scope.get("method") not in _SAFE_METHODS:
            origin = connection.headers.get("origin")
            if origin is not None and origin not in runtime.settings.allowed_origins:
                raise PermissionDeniedException("Requests from this origin are not allowed.")
        user = await AuthService(runtime=runtime).resolve(token, via=via)
        if user is None:
            raise NotAuthorizedException("The session is invalid, expired or revoked; sign in again.")
        bind_user(user.id, user.tenant_id)
        return AuthenticationResult(user=user, auth=token)
