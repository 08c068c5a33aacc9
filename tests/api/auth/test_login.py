"""Signing in with a password: sessions, wrong passwords, lockout, disabled accounts, signing out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import func, select, update

from api.provisioning import create_user
from api.runtime import Runtime
from persistence.models import AuditEvent, AuthSession, User
from tests.kit import PASSWORD, TenantKit

LOGIN = "/api/v1/auth/login"


async def _login(client: AsyncTestClient[Litestar], tenant: TenantKit, role: str, password: str = PASSWORD) -> object:
    return await client.post(LOGIN, json={"email": tenant.email(role), "password": password, "tenant": tenant.slug})


async def _audit(runtime: Runtime, tenant: TenantKit, action: str) -> list[AuditEvent]:
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        return list((await session.scalars(select(AuditEvent).where(AuditEvent.action == action))).all())


async def test_login_sets_an_httponly_samesite_session_cookie(
    client: AsyncTestClient[Litestar], tenant: TenantKit
) -> None:
    response = await client.post(LOGIN, json={"email": tenant.email("staff"), "password": PASSWORD})
    assert response.status_code == 200
    cookie = response.headers["set-cookie"].lower()
    assert "fieldhub_session=" in cookie
    assert "httponly" in cookie
    assert "samesite=lax" in cookie
    me = await client.get("/api/v1/auth/me")
    assert me.json()["email"] == tenant.email("staff")
    assert me.json()["roles"] == ["staff"]


async def test_bearer_token_authenticates_without_cookie(client: AsyncTestClient[Litestar], tenant: TenantKit) -> None:
    headers = await tenant.headers(client, "supervisor")
    response = await client.get("/api/v1/auth/me", headers=headers)
    assert response.status_code == 200
    assert "roles:read" in response.json()["permissions"]


async def test_wrong_password_is_refused_and_audited(
    client: AsyncTestClient[Litestar], tenant: TenantKit, runtime: Runtime
) -> None:
    response = await _login(client, tenant, "staff", "not-the-password")
    assert response.status_code == 401  # type: ignore[attr-defined]
    assert response.json()["error"]["code"] == "invalid_credentials"  # type: ignore[attr-defined]
    failures = [e for e in await _audit(runtime, tenant, "auth.login") if e.outcome == "failure"]
    assert [(e.actor_user_id, e.details["reason"]) for e in failures] == [(tenant.users["staff"], "password")]


async def test_unknown_email_gets_the_same_answer_as_a_wrong_password(client: AsyncTestClient[Litestar]) -> None:
    response = await client.post(LOGIN, json={"email": "nobody@nowhere.example", "password": "whatever-password"})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_credentials"


async def test_account_locks_after_repeated_failures_even_for_the_right_password(
    client: AsyncTestClient[Litestar], tenant: TenantKit, runtime: Runtime
) -> None:
    for _ in range(runtime.settings.login_max_failures):
        assert (await _login(client, tenant, "staff", "wrong-password")).status_code == 401  # type: ignore[attr-defined]
    response = await _login(client, tenant, "staff")
    assert response.status_code == 423  # type: ignore[attr-defined]
    body = response.json()["error"]  # type: ignore[attr-defined]
    assert body["code"] == "account_locked"
    assert 0 < body["details"]["retry_after"] <= runtime.settings.login_lock_seconds + 1
    assert response.headers["retry-after"] == str(body["details"]["retry_after"])  # type: ignore[attr-defined]


async def test_lock_doubles_with_each_further_failure(
    client: AsyncTestClient[Litestar], tenant: TenantKit, runtime: Runtime
) -> None:
    limit = runtime.settings.login_max_failures
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        await session.execute(update(User).where(User.id == tenant.users["staff"]).values(failed_logins=limit))
    await _login(client, tenant, "staff", "wrong-password")
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        user = await session.get_one(User, tenant.users["staff"])
        assert user.locked_until is not None
        lock = (user.locked_until - user.updated_at).total_seconds()
    assert runtime.settings.login_lock_seconds * 2 - 2 <= lock <= runtime.settings.login_lock_seconds * 2 + 2


async def test_disabled_account_cannot_sign_in(
    client: AsyncTestClient[Litestar], tenant: TenantKit, runtime: Runtime
) -> None:
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        await session.execute(update(User).where(User.id == tenant.users["staff"]).values(status="disabled"))
    response = await _login(client, tenant, "staff")
    assert response.status_code == 401  # type: ignore[attr-defined]


async def test_logout_revokes_the_session(client: AsyncTestClient[Litestar], tenant: TenantKit) -> None:
    headers = await tenant.headers(client, "staff")
    assert (await client.post("/api/v1/auth/logout", headers=headers)).json() == {"sessions_revoked": 1}
    response = await client.get("/api/v1/auth/me", headers=headers)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthenticated"


async def test_logout_everywhere_revokes_every_session(client: AsyncTestClient[Litestar], tenant: TenantKit) -> None:
    first = await tenant.headers(client, "staff")
    second = await tenant.headers(client, "staff")
    assert (await client.post("/api/v1/auth/logout-all", headers=first)).json() == {"sessions_revoked": 2}
    assert (await client.get("/api/v1/auth/me", headers=second)).status_code == 401


async def test_a_forged_token_is_refused(client: AsyncTestClient[Litestar], tenant: TenantKit) -> None:
    token = await tenant.token(client, "staff")
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    response = await client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {forged}"})
    assert response.status_code == 401


async def test_a_token_naming_another_tenant_is_refused(
    client: AsyncTestClient[Litestar], tenant: TenantKit, other_tenant: TenantKit
) -> None:
    token = await tenant.token(client, "staff")
    moved = other_tenant.id.hex + token[32:]
    assert (await client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {moved}"})).status_code == 401


async def test_cookie_request_from_a_foreign_origin_is_refused(
    client: AsyncTestClient[Litestar], tenant: TenantKit
) -> None:
    await _login(client, tenant, "staff")
    response = await client.post("/api/v1/auth/logout", headers={"Origin": "https://evil.example"})
    assert response.status_code == 403
    assert (await client.get("/api/v1/auth/me")).status_code == 200


async def test_unknown_fields_are_rejected(client: AsyncTestClient[Litestar], tenant: TenantKit) -> None:
    response = await client.post(
        LOGIN, json={"email": tenant.email("staff"), "password": PASSWORD, "remember_me": True}
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_request"
    assert "remember_me" in response.text


async def test_malformed_json_is_rejected(client: AsyncTestClient[Litestar]) -> None:
    response = await client.post(LOGIN, content=b'{"email": ', headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_request"


async def test_the_same_email_in_two_tenants_needs_a_tenant(
    client: AsyncTestClient[Litestar], tenant: TenantKit, other_tenant: TenantKit
) -> None:
    shared = "shared-person"
    await tenant.add_user(shared, roles=["staff"])
    async with other_tenant.runtime.db.transaction(tenant_id=other_tenant.id) as session:
        await create_user(
            session,
            tenant_id=other_tenant.id,
            email=tenant.email(shared),
            name="Twin",
            password=PASSWORD,
            roles=["staff"],
        )
    ambiguous = await client.post(LOGIN, json={"email": tenant.email(shared), "password": PASSWORD})
    assert ambiguous.status_code == 409
    assert ambiguous.json()["error"]["code"] == "tenant_required"
    named = await client.post(
        LOGIN, json={"email": tenant.email(shared), "password": PASSWORD, "tenant": other_tenant.slug}
    )
    assert named.status_code == 200


async def test_a_used_session_records_when_it_was_last_seen(
    client: AsyncTestClient[Litestar], runtime: Runtime, tenant: TenantKit
) -> None:
    token = (await _login(client, tenant, "staff")).json()["token"]
    long_ago = datetime.now(UTC) - timedelta(hours=1)
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        await session.execute(update(AuthSession).values(last_seen_at=long_ago))
    before = datetime.now(UTC)

    me = await client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})

    assert me.status_code == 200
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        seen = await session.scalar(select(func.max(AuthSession.last_seen_at)))
    assert seen is not None
    assert seen >= before - timedelta(seconds=1)
