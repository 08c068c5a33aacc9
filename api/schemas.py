"""Base Structs for request and response bodies: requests reject unknown fields."""

from __future__ import annotations

from typing import Generic, TypeVar

import msgspec

T = TypeVar("T")


class RequestBody(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A request body: an unknown field is a 400 ``invalid_request``, never silently dropped."""


class ResponseBody(msgspec.Struct, kw_only=True, omit_defaults=True):
    """A response body: fields left at their default (``None`` mostly) are omitted."""


class Page(ResponseBody, Generic[T]):
    """One page of a list, with the total for pagination controls."""

    items: list[T]
    total: int
    limit: int
    offset: int
