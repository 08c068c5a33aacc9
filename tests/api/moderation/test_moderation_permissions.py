"""Every moderation route requires the intended permission: members flag, appeal and list the actions
against them, reviewers work the queue, rule editors change rules, moderation admins set scopes and
settings and read the audit."""

from __future__ import annotations

from litestar import Litestar
from litestar.testing import AsyncTestClient

from api.auth.permissions import Permission
from tests.api.identity.test_rbac import _APP, guarded_endpoints
from tests.kit import TenantKit

EXPECTED = {
    "/api/v1/moderation/flags": Permission.CHAT_USE,
    "/api/v1/moderation/appeals": Permission.CHAT_USE,
    "/api/v1/moderation/actions": Permission.CHAT_USE,
    "/api/v1/moderation/cases": Permission.MODERATION_REVIEW,
    "/api/v1/moderation/rules": Permission.MODERATION_RULES,
    "/api/v1/moderation/scopes": Permission.MODERATION_ADMIN,
    "/api/v1/moderation/settings": Permission.MODERATION_ADMIN,
    "/api/v1/moderation/audit": Permission.MODERATION_ADMIN,
}


def test_each_moderation_route_requires_its_permission() -> None:
    routes = [(m, p, perm) for m, p, perm in guarded_endpoints(_APP) if p.startswith("/api/v1/moderation")]
    assert len(routes) >= 16
    for method, path, permission in routes:
        if path == "/api/v1/moderation/suspension-appeals":
            assert permission is None  # signed out: the email and password stand in for a session
            continue
        prefix = next(k for k in EXPECTED if path == k or path.startswith((f"{k}/", f"{k}.")))
        assert permission == EXPECTED[prefix], (method, path, permission)


async def test_members_and_moderators_are_refused_what_is_not_theirs(
    client: AsyncTestClient[Litestar], tenant: TenantKit
) -> None:
    staff = await tenant.headers(client, "staff")
    for path in ("/api/v1/moderation/cases", "/api/v1/moderation/rules", "/api/v1/moderation/audit"):
        assert (await client.get(path, headers=staff)).status_code == 403, path
    moderator = await tenant.headers(client, "moderator")
    assert (await client.get("/api/v1/moderation/cases", headers=moderator)).status_code == 200
    assert (await client.get("/api/v1/moderation/rules/report", headers=moderator)).status_code == 200
    for path in ("/api/v1/moderation/audit", "/api/v1/moderation/settings"):
        assert (await client.get(path, headers=moderator)).status_code == 403, path
