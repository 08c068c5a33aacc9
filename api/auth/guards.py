"""RBAC guards: every protected endpoint names the permission it needs; the guard checks it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from litestar.exceptions import PermissionDeniedException

if TYPE_CHECKING:
    from litestar.connection import ASGIConnection
    from litestar.handlers import BaseRouteHandler
    from litestar.types import Guard

    from api.auth.permissions import Permission


def requires(permission: Permission) -> Guard:
    """A guard that lets through only users whose roles hold ``permission``.

    The permission is also recorded on the handler (``opt["permission"]``) so tests and the
    OpenAPI document can list what each endpoint needs. The guard is a coroutine function although it
    never awaits: Litestar runs a plain function guard in a worker thread, a thread hop per request.
    """

    async def guard(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
        if not connection.user.can(permission):
            raise PermissionDeniedException(f"This needs the {permission.value!r} permission.")

    guard.permission = permission  # type: ignore[attr-defined]
    return guard
