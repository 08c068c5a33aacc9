"""The principal cache: a session used lately needs no database, and every way of losing access still works."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from uuid import uuid4

from sqlalchemy import delete, event, update

from api.auth.principal import CurrentUser
from api.auth.principal_cache import PrincipalCache
from api.realtime import share_identity_changes
from hub import Hub, HubConfig, RedisBroker
from hub.redis_client import redis_client
from persistence.models import AuthSession, UserRole
from tests.kit import eventually

if TYPE_CHECKING:
    from litestar import Litestar
    from litestar.testing import AsyncTestClient

    from api.runtime import Runtime
    from tests.api.auth.conftest import ManualClock
    from tests.kit import TenantKit

ME = "/api/v1/auth/me"
ROLES = "/api/v1/roles"


@contextmanager
def statements_of(app: Litestar) -> Iterator[list[str]]:
    """The SQL the app's engine sends inside the block."""
    sent: list[str] = []
    engine = app.state.runtime.db.engine.sync_engine

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        sent.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", count)


def _principal(expires_at: datetime) -> CurrentUser:
    return CurrentUser(
        id=uuid4(),
        tenant_id=uuid4(),
        session_id=uuid4(),
        email="a@b.example",
        name="A",
        roles=("staff",),
        permissions=frozenset(),
        via="bearer",
        expires_at=expires_at,
    )


async def test_a_session_used_lately_is_resolved_without_the_database(
    client: AsyncTestClient[Litestar], app: Litestar, tenant: TenantKit, principals: PrincipalCache
) -> None:
    staff = await tenant.headers(client, "staff")
    assert (await client.get(ME, headers=staff)).status_code == 200
    with statements_of(app) as sent:
        assert (await client.get(ME, headers=staff)).status_code == 200
    assert sent == []


async def test_a_session_revoked_by_another_process_is_refused_once_the_ttl_has_passed(
    client: AsyncTestClient[Litestar],
    runtime: Runtime,
    tenant: TenantKit,
    principals: PrincipalCache,
    clock: ManualClock,
) -> None:
    staff = await tenant.headers(client, "staff")
    assert (await client.get(ME, headers=staff)).status_code == 200
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        await session.execute(update(AuthSession).values(revoked_at=datetime.now(UTC)))
    assert (await client.get(ME, headers=staff)).status_code == 200, "served from the cache within its bound"
    clock.advance(principals.ttl)
    assert (await client.get(ME, headers=staff)).status_code == 401


async def test_a_role_taken_away_by_another_process_is_gone_once_the_ttl_has_passed(
    client: AsyncTestClient[Litestar],
    runtime: Runtime,
    tenant: TenantKit,
    principals: PrincipalCache,
    clock: ManualClock,
) -> None:
    admin = await tenant.headers(client, "admin")
    assert (await client.get(ROLES, headers=admin)).status_code == 200
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        await session.execute(delete(UserRole).where(UserRole.user_id == tenant.users["admin"]))
    assert (await client.get(ROLES, headers=admin)).status_code == 200, "served from the cache within its bound"
    clock.advance(principals.ttl)
    assert (await client.get(ROLES, headers=admin)).status_code == 403


async def test_signing_out_here_is_refused_at_once_however_long_the_ttl(
    client: AsyncTestClient[Litestar], tenant: TenantKit, principals: PrincipalCache
) -> None:
    staff = await tenant.headers(client, "staff")
    assert (await client.get(ME, headers=staff)).status_code == 200
    assert (await client.post("/api/v1/auth/logout", headers=staff)).status_code in (200, 201)
    assert (await client.get(ME, headers=staff)).status_code == 401


async def test_a_role_change_committed_here_takes_effect_at_once_however_long_the_ttl(
    client: AsyncTestClient[Litestar], tenant: TenantKit, principals: PrincipalCache
) -> None:
    staff = await tenant.headers(client, "staff")
    admin = await tenant.headers(client, "admin")
    assert (await client.get(ROLES, headers=staff)).status_code == 403
    url = f"/api/v1/users/{tenant.users['staff']}/roles"
    assert (await client.put(url, json={"roles": ["supervisor"]}, headers=admin)).status_code == 200
    assert (await client.get(ROLES, headers=staff)).status_code == 200


def test_an_expired_session_is_not_served_from_the_cache() -> None:
    cache = PrincipalCache(ttl=60.0)
    cache.put(b"k", _principal(datetime.now(UTC) - timedelta(seconds=1)))
    assert cache.get(b"k") is None


def test_a_zero_ttl_keeps_nothing() -> None:
    cache = PrincipalCache(ttl=0.0)
    cache.put(b"k", _principal(datetime.now(UTC) + timedelta(hours=1)))
    assert len(cache) == 0


def test_a_full_cache_lets_the_oldest_entry_go() -> None:
    cache = PrincipalCache(ttl=60.0, capacity=2)
    for key in (b"a", b"b", b"c"):
        cache.put(key, _principal(datetime.now(UTC) + timedelta(hours=1)))
    assert (cache.get(b"a"), cache.get(b"c") is not None) == (None, True)


async def test_an_identity_change_committed_on_one_node_empties_every_nodes_cache(
    runtime: Runtime, tenant: TenantKit, redis_url: str
) -> None:
    config = HubConfig(control_channel=f"hub:control:test-{uuid4().hex}")
    caches = [PrincipalCache(ttl=3600.0), PrincipalCache(ttl=3600.0)]
    stores = [redis_client(redis_url, cluster=False) for _ in caches]
    hubs = [
        Hub(config=config, broker=RedisBroker(url=redis_url), redis=store, authenticator=_nobody) for store in stores
    ]
    for hub, cache in zip(hubs, caches, strict=True):
        share_identity_changes(hub, cache)
        cache.put(b"someone", _principal(datetime.now(UTC) + timedelta(hours=1)))
    engine = runtime.db.engine.sync_engine
    caches[0].watch(engine)
    try:
        async with hubs[0], hubs[1]:
            async with runtime.db.transaction(tenant_id=tenant.id) as session:
                await session.execute(delete(UserRole).where(UserRole.user_id == tenant.users["staff"]))
            assert len(caches[0]) == 0, "this node's own cache is emptied at commit"

            async def other_node_emptied() -> bool:
                return len(caches[1]) == 0

            await eventually(other_node_emptied)
    finally:
        caches[0].unwatch(engine)
        for store in stores:
            await store.aclose()


async def _nobody(_: Any) -> None:
    return None


async def test_a_failed_sign_in_leaves_the_cache_alone(
    client: AsyncTestClient[Litestar], tenant: TenantKit, principals: PrincipalCache
) -> None:
    staff = await tenant.headers(client, "staff")
    assert (await client.get(ME, headers=staff)).status_code == 200
    wrong = {"tenant": tenant.slug, "email": tenant.email("admin"), "password": "not-the-password"}
    assert (await client.post("/api/v1/auth/login", json=wrong)).status_code == 401
    assert len(principals) == 1, "a wrong password moves the failure counter, not what a principal holds"


async def test_the_cache_is_emptied_once_the_identity_change_is_committed_not_before(
    runtime: Runtime, tenant: TenantKit
) -> None:
    cache = PrincipalCache(ttl=3600.0)
    cache.put(b"someone", _principal(datetime.now(UTC) + timedelta(hours=1)))
    engine = runtime.db.engine
    cache.watch(engine.sync_engine)
    try:
        async with engine.connect() as connection:
            await connection.execute(delete(UserRole).where(UserRole.user_id == tenant.users["staff"]))
            await connection.commit()
            kept_until_checkin = len(cache)
    finally:
        cache.unwatch(engine.sync_engine)
    assert (kept_until_checkin, len(cache)) == (1, 0)


def test_a_principal_read_before_the_cache_was_emptied_is_not_kept() -> None:
    cache = PrincipalCache(ttl=60.0)
    read_at = cache.generation
    cache.clear()
    cache.put(b"k", _principal(datetime.now(UTC) + timedelta(hours=1)), generation=read_at)
    assert cache.get(b"k") is None
