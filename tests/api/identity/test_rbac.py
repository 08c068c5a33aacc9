"""RBAC table: every identity endpoint refuses a caller lacking exactly its permission, and nothing is unguarded.

The table is read from the application's routes, so a new endpoint is covered (or fails) without
anyone remembering to add a row.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from litestar import Litestar
from litestar.routes import HTTPRoute
from litestar.testing import AsyncTestClient

from api.app import create_app
from api.auth.permissions import ALL_PERMISSIONS, Permission
from api.runtime import Runtime
from api.settings import Settings
from tests.api.identity.arrange import Headers, refusal, signed_in_with
from tests.kit import TenantKit

IDENTITY_PREFIXES = ("/api/v1/users", "/api/v1/departments", "/api/v1/roles", "/api/v1/tenants", "/api/v1/audit")
# Routes open to anyone, or to any signed-in user about themselves (their own inbox, preferences
# and push subscriptions): no permission to require. Guarded routes under these prefixes still
# carry their guard, checked by their own tests. Files: any signed-in user uploads; reading is
# decided per file (conversation membership), not by role.
UNGUARDED_PREFIXES = (
    "/health",
    "/metrics",  # for the Prometheus scraper, like /health; FIELDHUB_METRICS_TOKEN guards it when set
    "/schema",
    "/static",
    "/api/v1/auth",
    "/api/v1/files",
    "/api/v1/notifications",
    "/api/v1/notification-categories",
    "/api/v1/push",
)
# A suspended user cannot sign in: they appeal with their email and password instead (its own tests).
UNGUARDED_PATHS = {"/", "/api/v1/users/me", "/sw.js", "/api/v1/moderation/suspension-appeals"}
# Approval action links: the signed, single-use token in the link is the credential (tests/api/approvals).
UNGUARDED_PATHS |= {"/api/v1/approvals/actions/{token:str}"}
# One's own data export (any signed-in person); its download link is a signed token (tests/api/privacy).
UNGUARDED_PATHS |= {"/api/v1/privacy/me/exports", "/api/v1/privacy/exports/{token:str}"}
# A scheduled report's mailed download link: the signed token is the credential (tests/api/reports).
UNGUARDED_PATHS |= {"/api/v1/reports/runs/{token:str}/output.csv"}


def guarded_endpoints(app: Litestar) -> list[tuple[str, str, Permission | None]]:
    """``(method, path, permission)`` of every HTTP handler; ``None`` when no ``requires`` guard is on it."""
    endpoints: list[tuple[str, str, Permission | None]] = []
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            # Litestar wraps each guard in an AsyncCallable; the function made by `requires` is its `func`.
            guards = [getattr(g, "func", g) for g in handler.resolve_guards()]
            permissions = [g.permission for g in guards if hasattr(g, "permission")]
            assert len(permissions) <= 1, f"{route.path}: several permission guards"
            for method in sorted(handler.http_methods - {"OPTIONS", "HEAD"}):
                endpoints.append((method, route.path, permissions[0] if permissions else None))
    return endpoints


# Built at collection time from the real app factory (nothing connects until the lifespan runs).
_APP = create_app(
    Settings(database_url="postgresql://unused/unused", redis_url="redis://unused:6379/0", secret_key="unused")
)
TABLE = [(m, p, perm) for m, p, perm in guarded_endpoints(_APP) if p.startswith(IDENTITY_PREFIXES) and perm]


EXPECTED = {
    ("GET", "/api/v1/users", Permission.USERS_READ),
    ("GET", "/api/v1/users/{user_id:uuid}", Permission.USERS_READ),
    ("POST", "/api/v1/users", Permission.USERS_WRITE),
    ("PATCH", "/api/v1/users/{user_id:uuid}", Permission.USERS_WRITE),
    ("PUT", "/api/v1/users/{user_id:uuid}/roles", Permission.USERS_WRITE),
    ("GET", "/api/v1/departments", Permission.DEPARTMENTS_READ),
    ("GET", "/api/v1/departments/tree", Permission.DEPARTMENTS_READ),
    ("GET", "/api/v1/departments/{department_id:uuid}", Permission.DEPARTMENTS_READ),
    ("POST", "/api/v1/departments", Permission.DEPARTMENTS_WRITE),
    ("PATCH", "/api/v1/departments/{department_id:uuid}", Permission.DEPARTMENTS_WRITE),
    ("DELETE", "/api/v1/departments/{department_id:uuid}", Permission.DEPARTMENTS_WRITE),
    ("GET", "/api/v1/roles", Permission.ROLES_READ),
    ("GET", "/api/v1/roles/{role_id:uuid}", Permission.ROLES_READ),
    ("POST", "/api/v1/roles", Permission.ROLES_WRITE),
    ("PATCH", "/api/v1/roles/{role_id:uuid}", Permission.ROLES_WRITE),
    ("DELETE", "/api/v1/roles/{role_id:uuid}", Permission.ROLES_WRITE),
    ("GET", "/api/v1/tenants/current", Permission.TENANT_READ),
    ("PATCH", "/api/v1/tenants/current", Permission.TENANT_WRITE),
    ("POST", "/api/v1/tenants", Permission.TENANTS_CREATE),
    ("GET", "/api/v1/audit", Permission.AUDIT_READ),
    ("GET", "/api/v1/audit/export", Permission.AUDIT_READ),
    ("GET", "/api/v1/tenants/current/retention", Permission.TENANT_READ),
    ("PUT", "/api/v1/tenants/current/retention", Permission.TENANT_WRITE),
    # The relay is an admin's: even reading it shows where the tenant's mail goes and with which login.
    ("GET", "/api/v1/tenants/current/mail-relay", Permission.TENANT_WRITE),
    ("PUT", "/api/v1/tenants/current/mail-relay", Permission.TENANT_WRITE),
    ("DELETE", "/api/v1/tenants/current/mail-relay", Permission.TENANT_WRITE),
    ("POST", "/api/v1/tenants/current/mail-relay/test", Permission.TENANT_WRITE),
}
"""What each identity endpoint must require: a new endpoint, or a changed guard, has to be added here on purpose."""


def concrete(path: str) -> str:
    """``/api/v1/users/{user_id:uuid}`` -> ``/api/v1/users/<random uuid>``."""
    return re.sub(r"\{[^}:]+:uuid\}", lambda _: str(uuid.uuid4()), path)


@pytest.fixture(scope="module")
async def rbac_tenant(runtime: Runtime) -> TenantKit:
    return await TenantKit.create(runtime)


@pytest.fixture(scope="module")
def signed_in() -> dict[frozenset[str], Headers]:
    return {}


async def holding(
    client: AsyncTestClient[Litestar], kit: TenantKit, cache: dict[frozenset[str], Headers], permissions: frozenset[str]
) -> Headers:
    if permissions not in cache:
        cache[permissions] = await signed_in_with(client, kit, permissions)
    return cache[permissions]


def test_every_route_outside_the_allow_list_requires_a_permission() -> None:
    unguarded = [
        (method, path)
        for method, path, permission in guarded_endpoints(_APP)
        if permission is None and path not in UNGUARDED_PATHS and not path.startswith(UNGUARDED_PREFIXES)
    ]
    assert unguarded == []


def test_the_table_covers_every_identity_endpoint() -> None:
    identity = [(m, p) for m, p, _ in guarded_endpoints(_APP) if p.startswith(IDENTITY_PREFIXES)]
    assert {(m, p) for m, p, _ in TABLE} | {("GET", "/api/v1/users/me"), ("PATCH", "/api/v1/users/me")} == set(identity)


def test_each_identity_endpoint_requires_the_intended_permission() -> None:
    assert set(TABLE) == EXPECTED


@pytest.mark.parametrize(("method", "path", "permission"), TABLE, ids=[f"{m} {p} {perm}" for m, p, perm in TABLE])
async def test_endpoint_refuses_a_caller_lacking_its_permission(
    client: AsyncTestClient[Litestar],
    rbac_tenant: TenantKit,
    signed_in: dict[frozenset[str], Headers],
    method: str,
    path: str,
    permission: Permission,
) -> None:
    body: Any = {} if method in {"POST", "PUT", "PATCH"} else None
    url = concrete(path)
    lacking = await holding(client, rbac_tenant, signed_in, frozenset(ALL_PERMISSIONS - {permission}))
    refused = await client.request(method, url, json=body, headers=lacking)
    assert refusal(refused) == (403, "forbidden"), refused.text
    # The same request with only that permission gets past the guard (to a 2xx, 400 or 404).
    allowed = await holding(client, rbac_tenant, signed_in, frozenset({permission}))
    passed = await client.request(method, url, json=body, headers=allowed)
    assert passed.status_code != 403, passed.text
