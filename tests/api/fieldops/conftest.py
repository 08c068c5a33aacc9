"""Field-operations fixtures: one tenant per test module for the permission tables, with sign-ins
cached per permission set so each set signs in once."""

from __future__ import annotations

import pytest

from api.runtime import Runtime
from tests.api.identity.arrange import Headers
from tests.kit import TenantKit


@pytest.fixture(scope="module")
async def rbac_tenant(runtime: Runtime) -> TenantKit:
    return await TenantKit.create(runtime)


@pytest.fixture(scope="module")
def signed_in() -> dict[frozenset[str], Headers]:
    return {}
