"""Fixtures of the identity endpoint tests: signed-in admins and users holding exactly some permissions."""

from __future__ import annotations

from collections.abc import Iterable

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from api.provisioning import ensure_operator_role
from api.runtime import Runtime
from tests.api.identity.arrange import Grant, Headers, signed_in_with
from tests.kit import TenantKit


@pytest.fixture
async def admin(client: AsyncTestClient[Litestar], tenant: TenantKit) -> Headers:
    """Bearer headers of the tenant's admin."""
    return await tenant.headers(client, "admin")


@pytest.fixture
def grant(client: AsyncTestClient[Litestar], tenant: TenantKit) -> Grant:
    """``await grant([...])``: headers of a new user of ``tenant`` holding exactly those permissions."""

    async def make(permissions: Iterable[str]) -> Headers:
        return await signed_in_with(client, tenant, permissions)

    return make


@pytest.fixture
async def operator(client: AsyncTestClient[Litestar], tenant: TenantKit, runtime: Runtime) -> Headers:
    """Headers of a user of ``tenant`` holding the operator role (``tenants:create``), as the CLI grants it."""
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        await ensure_operator_role(session, tenant.id)
    await tenant.add_user("operator", roles=["operator"])
    return await tenant.headers(client, "operator")
