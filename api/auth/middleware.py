"""Authentication middleware: a session cookie (browsers) or a Bearer token (other clients) becomes ``request.user``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult

from api.auth.services import AuthService

if TYPE_CHECKING:
    from litestar.connection import ASGIConnection

    from api.runtime import Runtime

SESSION_COOKIE = "fieldhub_session"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def bearer_token(connection: ASGIConnection[Any, Any, Any, Any]) -> str | None:
    scheme, _, credentials = connection.headers.get("authorization", "").partition(" ")
    return credentials.strip() or None if scheme.lower() == "bearer" else None


class SessionAuthMiddleware(AbstractAuthenticationMiddleware):
    """Resolve the caller's session; handlers marked ``exclude_from_auth`` skip this.

    A cookie-authenticated request that changes something must come from an allowed origin
    (SameSite=Lax already stops most cross-site requests; this closes the rest).
    """

    async def authenticate_request(self, connection: ASGIConnection[Any, Any, Any, Any]) -> AuthenticationResult:
        runtime: Runtime = connection.app.state.runtime
        token = bearer_token(connection)
        via = "bearer"
        if token is None:
            token = connection.cookies.get(SESSION_COOKIE)
            via = "cookie"
        if not token:
            raise NotAuthorizedException("Sign in first.")
        if via == "cookie" and connection.scope.get("method") not in _SAFE_METHODS:
            origin = connection.headers.get("origin")
            if origin is not None and origin not in runtime.settings.allowed_origins:
                raise PermissionDeniedException("Requests from this origin are not allowed.")
        user = await AuthService(runtime=runtime).resolve(token, via="bearer" if via == "bearer" else "cookie")
        if user is None:
            raise NotAuthorizedException("The session is invalid, expired or revoked; sign in again.")
        return AuthenticationResult(user=user, auth=token)
