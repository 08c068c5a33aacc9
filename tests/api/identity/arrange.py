"""Arranging identity data straight in the database (as the tenant), for the identity endpoint tests."""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable, Iterable
from typing import Any
from uuid import UUID

from httpx import Response
from litestar import Litestar
from litestar.testing import AsyncTestClient

from persistence.models import Department, Role
from tests.kit import TenantKit

Headers = dict[str, Any]
Grant = Callable[[Iterable[str]], Awaitable[Headers]]


async def add_role(kit: TenantKit, name: str, permissions: Iterable[str], *, builtin: bool = False) -> UUID:
    async with kit.runtime.db.transaction(tenant_id=kit.id) as session:
        role = Role(tenant_id=kit.id, name=name, permissions=sorted(set(permissions)), is_builtin=builtin)
        session.add(role)
        await session.flush()
        return role.id


async def add_department(kit: TenantKit, name: str, *, parent_id: UUID | None = None) -> UUID:
    async with kit.runtime.db.transaction(tenant_id=kit.id) as session:
        department = Department(tenant_id=kit.id, name=name, parent_id=parent_id)
        session.add(department)
        await session.flush()
        return department.id


async def signed_in_with(client: AsyncTestClient[Litestar], kit: TenantKit, permissions: Iterable[str]) -> Headers:
    """Sign in a new user of ``kit`` whose only role holds exactly ``permissions``."""
    name = f"u{secrets.token_hex(4)}"
    await add_role(kit, f"only-{name}", permissions)
    await kit.add_user(name, roles=[f"only-{name}"])
    return await kit.headers(client, name)


def refusal(response: Response) -> tuple[int, str | None]:
    """The status and error code of a response, e.g. ``(409, "conflict")``.

    The code is ``None`` for a body that is not an error, so a wrong status still shows as an
    assertion diff rather than a ``KeyError``.
    """
    try:
        error = response.json().get("error") or {}
    except (ValueError, AttributeError):
        error = {}
    return response.status_code, error.get("code")
