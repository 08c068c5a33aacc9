"""The error responses of the OpenAPI document at ``/schema``: each operation lists the statuses and stable codes
it can answer with, all in the one error body of :mod:`api.errors`.

An operation documents:

- what its handler's docstring names as ``NNN code`` (``409 leave_overlap``) or ``NNN ``code````: each
  domain lists its own refusals there;
- ``401 unauthenticated`` unless it is open without a session (``exclude_from_auth``);
- ``403 forbidden`` when it has guards (a permission the caller lacks);
- ``404 not_found`` when its path names something (an id not in the caller's tenant is not found);
- ``400 invalid_request`` when it takes a body or parameters (Litestar's own 400 schema is not ours).
"""

from __future__ import annotations

import inspect
import re
from typing import TYPE_CHECKING, Any

import msgspec
from litestar.constants import RESERVED_KWARGS
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import Example
from litestar.routes import HTTPRoute

if TYPE_CHECKING:
    from litestar import Litestar
    from litestar.handlers import HTTPRouteHandler

_DOCUMENTED = re.compile(r"``(\d{3}) ([a-z][a-z0-9_]*)``|\b(\d{3}) ``([a-z][a-z0-9_]*)``")


class ErrorDetail(msgspec.Struct, kw_only=True):
    code: str
    """Stable and machine-readable: what the client acts on."""
    message: str
    """A sentence for people."""
    details: dict[str, Any]
    """Structured context: the field at fault, the conflicting item, what is available."""


class ErrorBody(msgspec.Struct, kw_only=True):
    """Every 4xx and 5xx answer."""

    error: ErrorDetail


def documented_errors(handler: HTTPRouteHandler) -> dict[int, list[str]]:
    """The statuses and codes the docstring of ``handler`` names, in order of mention.

    Example: a docstring saying ``Errors: ``404 not_found``, 409 ``leave_overlap``.`` gives
    ``{404: ["not_found"], 409: ["leave_overlap"]}``.
    """
    found: dict[int, list[str]] = {}
    for match in _DOCUMENTED.finditer(inspect.getdoc(handler.fn) or ""):
        status, code = (match[1], match[2]) if match[1] else (match[3], match[4])
        codes = found.setdefault(int(status), [])
        if code not in codes:
            codes.append(code)
    return found


def document_errors(app: Litestar) -> None:
    """Give every operation of ``app`` its error responses (before the document is first built)."""
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            errors: dict[int, list[str]] = {}
            if route.path_parameters:
                errors[404] = ["not_found"]
            if _takes_input(handler):
                errors[400] = ["invalid_request"]
            if not handler.opt.get("exclude_from_auth"):
                errors[401] = ["unauthenticated"]
            if handler.resolve_guards():
                errors[403] = ["forbidden"]
            for status, codes in documented_errors(handler).items():
                errors[status] = [*errors.get(status, []), *(c for c in codes if c not in errors.get(status, []))]
            handler.responses = {**_responses(errors), **(handler.responses or {})}


def _takes_input(handler: HTTPRouteHandler) -> bool:
    """Whether Litestar validates a body or parameters of ``handler`` (it answers 400 when they are wrong)."""
    declared = set(handler.parsed_fn_signature.parameters) - set(handler.resolve_dependencies())
    return "data" in declared or bool(declared - RESERVED_KWARGS)


def _responses(errors: dict[int, list[str]]) -> dict[int, ResponseSpec]:
    return {
        status: ResponseSpec(
            data_container=ErrorBody,
            description="error.code: " + ", ".join(f"`{code}`" for code in codes),
            generate_examples=False,
            examples=[
                Example(summary=code, value={"error": {"code": code, "message": "…", "details": {}}}) for code in codes
            ],
        )
        for status, codes in sorted(errors.items())
    }
