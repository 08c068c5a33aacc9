"""Test building blocks: throwaway databases and tenants populated with one user per built-in role."""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar
from uuid import UUID

import asyncpg
from sqlalchemy.engine import make_url

from api.auth.permissions import BUILTIN_ROLES
from api.provisioning import create_tenant, create_user
from persistence.backup import libpq_url

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from litestar import Litestar
    from litestar.testing import AsyncTestClient

    from api.runtime import Runtime

PASSWORD = "correct-horse-battery"
T = TypeVar("T")


async def eventually(check: Callable[[], Awaitable[T | None]], timeout: float = 15.0) -> T:
    """Poll ``check`` until it returns something truthy (a condition to wait on, never a fixed sleep)."""
    async with asyncio.timeout(timeout):
        while True:
            value = await check()
            if value:
                return value
            await asyncio.sleep(0.05)


async def create_database(server_url: str, name: str) -> str:
    """Create database ``name`` on the server of ``server_url``; return its owner URL (asyncpg)."""
    connection = await asyncpg.connect(libpq_url(server_url))
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    return make_url(server_url).set(drivername="postgresql+asyncpg", database=name).render_as_string(False)


async def drop_database(server_url: str, name: str) -> None:
    connection = await asyncpg.connect(libpq_url(server_url))
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


@dataclass
class TenantKit:
    """A tenant created for one test: its id and slug, and a user id per built-in role."""

    runtime: Runtime
    id: UUID
    slug: str
    users: dict[str, UUID] = field(default_factory=dict)

    @classmethod
    async def create(cls, runtime: Runtime) -> TenantKit:
        slug = f"t-{secrets.token_hex(6)}"
        async with runtime.db.transaction() as session:
            tenant = await create_tenant(session, name=f"Tenant {slug}", slug=slug)
            kit = cls(runtime=runtime, id=tenant.id, slug=slug)
            for role in BUILTIN_ROLES:
                user = await create_user(
                    session,
                    tenant_id=tenant.id,
                    email=kit.email(role),
                    name=role.title(),
                    password=PASSWORD,
                    roles=[role],
                )
                kit.users[role] = user.id
        return kit

    def email(self, role: str) -> str:
        return f"{role}@{self.slug}.example"

    async def add_user(self, name: str, *, roles: list[str], password: str | None = PASSWORD) -> UUID:
        async with self.runtime.db.transaction(tenant_id=self.id) as session:
            user = await create_user(
                session, tenant_id=self.id, email=self.email(name), name=name, password=password, roles=roles
            )
        self.users[name] = user.id
        return user.id

    async def token(self, client: AsyncTestClient[Litestar], role: str = "admin") -> str:
        """Sign in as the user ``role`` and return their bearer token."""
        response = await client.post(
            "/api/v1/auth/login", json={"email": self.email(role), "password": PASSWORD, "tenant": self.slug}
        )
        assert response.status_code == 200, response.text
        token: str = response.json()["token"]
        client.cookies.clear()
        return token

    async def headers(self, client: AsyncTestClient[Litestar], role: str = "admin") -> dict[str, Any]:
        return {"Authorization": f"Bearer {await self.token(client, role)}"}
