"""One JSON error shape for every 4xx and 5xx: ``{"error": {"code", "message", "details"}}``."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from advanced_alchemy.exceptions import (
    DuplicateKeyError,
    ForeignKeyError,
    IntegrityError,
    NotFoundError,
    RepositoryError,
)
from litestar import MediaType, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR, HTTP_503_SERVICE_UNAVAILABLE
from sqlalchemy.exc import TimeoutError as PoolTimeout

from channels.errors import ChatError

if TYPE_CHECKING:
    from litestar import Request
    from litestar.types import ExceptionHandlersMap

log = logging.getLogger("fieldhub.api")

# Litestar's own exceptions carry only a status; these are their stable codes.
_CODES_BY_STATUS = {
    400: "invalid_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
    503: "unavailable",
}


class AppError(Exception):
    """An error the client can act on, with a stable ``code``.

    Args:
        code: stable machine-readable code, documented per endpoint.
        message: a sentence for people.
        status_code: the HTTP status.
        details: structured context (never secrets).
        headers: extra response headers (``Retry-After`` for instance).
    """

    def __init__(
        self,
        code: str,
        message: str,
        *,
        status_code: int = 400,
        details: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status_code = status_code
        self.details = details or {}
        self.headers = headers or {}


POOL_RETRY_AFTER_SECONDS = 1
"""What a request that found no free database connection is told to wait before trying again."""


def error_response(
    code: str,
    message: str,
    status_code: int,
    details: Any = None,
    headers: dict[str, str] | None = None,
) -> Response[Any]:
    """Build the one error body every failing endpoint returns."""
    return Response(
        {"error": {"code": code, "message": message, "details": details or {}}},
        status_code=status_code,
        media_type=MediaType.JSON,
        headers=headers,
    )


def _app_error(_: Request[Any, Any, Any], exc: AppError) -> Response[Any]:
    return error_response(exc.code, exc.message, exc.status_code, exc.details, exc.headers)


def _http_error(_: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    status = exc.status_code
    details: Any = {}
    if isinstance(exc, ValidationException):
        details = {"errors": exc.extra} if exc.extra else {}
    elif isinstance(exc.extra, dict):
        details = exc.extra
    headers = dict(exc.headers) if exc.headers else None
    return error_response(_CODES_BY_STATUS.get(status, "http_error"), exc.detail, status, details, headers)


def _repository_error(_: Request[Any, Any, Any], exc: RepositoryError) -> Response[Any]:
    if isinstance(exc, NotFoundError):
        return error_response("not_found", "No such item.", 404)
    if isinstance(exc, DuplicateKeyError):
        return error_response("conflict", "An item with the same unique value exists.", 409)
    if isinstance(exc, ForeignKeyError):
        return error_response("invalid_reference", "A referenced item does not exist.", 400)
    if isinstance(exc, IntegrityError):
        return error_response("conflict", "The change conflicts with existing data.", 409)
    return _internal_error(_, exc)


def _chat_error(_: Request[Any, Any, Any], exc: ChatError) -> Response[Any]:
    return error_response(exc.code, exc.message, exc.status_code)


def _pool_exhausted(request: Request[Any, Any, Any], exc: PoolTimeout) -> Response[Any]:
    # Every pooled connection stayed busy for the pool's whole timeout: the process is overloaded,
    # which a client should meet with a retry a little later, not with an error of ours.
    log.warning("no database connection free on %s %s", request.method, request.url.path)
    return error_response(
        "unavailable",
        "The service is busy; try again in a moment.",
        HTTP_503_SERVICE_UNAVAILABLE,
        {"retry_after": POOL_RETRY_AFTER_SECONDS},
        {"Retry-After": str(POOL_RETRY_AFTER_SECONDS)},
    )


def _internal_error(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return error_response("internal_error", "Something went wrong on our side.", HTTP_500_INTERNAL_SERVER_ERROR)


exception_handlers: ExceptionHandlersMap = {
    AppError: _app_error,
    HTTPException: _http_error,
    RepositoryError: _repository_error,
    ChatError: _chat_error,
    PoolTimeout: _pool_exhausted,
    Exception: _internal_error,
}
