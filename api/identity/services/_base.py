"""What every identity service shares: the request's session, exact page totals, row locks, and the checks
more than one resource makes (time zones, references into the caller's tenant, who may grant what).

Each service is built per request on the request's session, which runs as the caller's tenant:
row-level security hides every other tenant's rows, so an id of another tenant is simply not found.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any
from uuid import UUID
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec
from advanced_alchemy.exceptions import wrap_sqlalchemy_exception
from advanced_alchemy.filters import CollectionFilter, LimitOffset, SearchFilter
from advanced_alchemy.repository.typing import ModelT
from advanced_alchemy.service import SQLAlchemyAsyncRepositoryService
from sqlalchemy import select

from api.auth.permissions import Permission
from api.errors import AppError

if TYPE_CHECKING:
    from collections.abc import Iterator

    from advanced_alchemy.filters import OrderBy, StatementFilter
    from sqlalchemy.ext.asyncio import AsyncSession

    from api.auth.principal import CurrentUser
    from persistence.models import Department, User


def check_timezone(name: str) -> None:
    """Raise ``invalid_timezone`` (422) unless ``name`` is an IANA zone, e.g. ``Europe/Paris``."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise AppError(
            "invalid_timezone", f"{name!r} is not a known time zone.", status_code=422, details={"timezone": name}
        ) from exc


def changes(data: msgspec.Struct) -> dict[str, Any]:
    """The fields of an update body that were sent: ``{"name": "x"}`` for ``UserUpdate(name="x")``."""
    return {k: v for k, v in msgspec.structs.asdict(data).items() if v is not msgspec.UNSET}


@contextmanager
def database_errors() -> Iterator[None]:
    """Turn SQLAlchemy errors of code outside a repository into advanced-alchemy's (409 on duplicates)."""
    with wrap_sqlalchemy_exception(dialect_name="postgresql"):
        yield


def equal_to(**values: Any) -> list[StatementFilter]:
    """One equality filter per keyword that is not ``None``.

    Example: ``equal_to(status="active", department_id=None)`` filters on ``status`` only.
    """
    return [CollectionFilter(field_name=name, values=[value]) for name, value in values.items() if value is not None]


def matching(search: str | None, field_name: str | set[str]) -> list[StatementFilter]:
    """A case-insensitive substring filter on ``field_name`` (any of them, for a set); none for an empty ``search``."""
    if not search:
        return []
    return [SearchFilter(field_name=field_name, value=search, ignore_case=True, escape_wildcards=True)]


async def require_visible(
    session: AsyncSession, model: type[User | Department], item_id: UUID | None, field: str
) -> None:
    """Raise ``invalid_reference`` (400) unless ``item_id`` is ``None`` or a row of the caller's tenant.

    Foreign keys alone are not enough: Postgres checks them past row-level security, so they
    would accept an id of another tenant.
    """
    if item_id is not None and await session.scalar(select(model.id).where(model.id == item_id)) is None:
        raise AppError("invalid_reference", f"No {field.removesuffix('_id')} with this id.", details={"field": field})


def check_grantable(actor: CurrentUser, permissions: Iterable[str]) -> None:
    """Raise ``forbidden`` (403) for ``tenants:create`` or any permission the caller does not hold."""
    wanted = set(permissions)
    if Permission.TENANTS_CREATE in wanted:
        raise AppError("forbidden", "The 'tenants:create' permission cannot be granted here.", status_code=403)
    missing = sorted(wanted - actor.permissions)
    if missing:
        raise AppError(
            "forbidden",
            "You cannot grant or withdraw permissions you do not hold.",
            status_code=403,
            details={"permissions": missing},
        )


class IdentityService(SQLAlchemyAsyncRepositoryService[ModelT]):
    """What every identity service shares: the request's session, exact totals, row locks."""

    count_with_window_function = False
    """Two queries, so a page past the end still reports the true total."""

    @property
    def session(self) -> AsyncSession:
        session: AsyncSession = self.repository.session
        return session

    async def get_for_update(self, item_id: UUID) -> ModelT:
        """The row ``item_id``, locked until the transaction ends; ``NotFoundError`` (404) when not visible."""
        return await self.get(item_id, statement=select(self.model_type).with_for_update())

    async def page_of(
        self, filters: list[Any], *, limit: int, offset: int, order: Sequence[OrderBy]
    ) -> tuple[Sequence[ModelT], int]:
        """One page of the rows matching ``filters`` in ``order``, and how many match in all.

        Args:
            filters: advanced-alchemy filters or SQLAlchemy conditions.
            limit: rows on the page.
            offset: rows skipped before it.
            order: sort keys; end with a unique one so pages never overlap.
        """
        return await self.get_many_and_count(*filters, *order, LimitOffset(limit=limit, offset=offset))
