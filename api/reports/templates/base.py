"""What a report template is: a key, a title, the filters it takes, and how it builds its statement."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Literal

import msgspec

if TYPE_CHECKING:
    from sqlalchemy import Select
    from sqlalchemy.ext.asyncio import AsyncSession

    from api.reports.query import ReportQuery

__all__ = ["Filter", "Template"]

Filter = Literal["department_id", "workplace_id", "user_id"]

Build = Callable[["AsyncSession", "ReportQuery"], Awaitable["Select[Any]"]]


class Template(msgspec.Struct, frozen=True, kw_only=True):
    """A built-in report; ``build`` reads nothing but what it needs to write the statement (lateness reads shifts)."""

    key: str
    title: str
    description: str
    filters: tuple[Filter, ...]
    build: Build
