"""A tenant's own mail relay over the API: the password sealed at rest, re-sealed by ``keys rewrap``, never
returned or audited; a test mail through a real relay requiring AUTH; admins only, each tenant its own."""

from __future__ import annotations

import asyncio
import base64
import secrets
import socket
from typing import Any

import asyncpg
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from api.provisioning import create_tenant
from api.settings import Settings
from delivery.relays import password_purpose
from persistence import migrate
from persistence.backup import libpq_url
from persistence.encryption import Keyring, rewrap
from persistence.engine import asyncpg_url
from tests.delivery.relay_server import relay_requiring_auth
from tests.kit import TenantKit

Client = AsyncTestClient[Litestar]
RELAY = "/api/v1/tenants/current/mail-relay"
USERNAME = "acme-mailer"


def relay_body(port: int, password: str | None, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "host": "127.0.0.1",
        "port": port,
        "security": "none",
        "username": USERNAME,
        "password": password,
        "from_address": "ops@acme.example",
        "from_name": "Acme Ops",
    }
    return {**body, **changes}


def free_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


async def owner_fetch(settings: Settings, query: str, *args: Any) -> list[asyncpg.Record]:
    """Rows read as the database owner (past row-level security), as they are stored."""
    connection = await asyncpg.connect(libpq_url(settings.database_url or ""))
    try:
        return list(await connection.fetch(query, *args))
    finally:
        await connection.close()


async def put_relay(client: Client, tenant: TenantKit, body: dict[str, Any]) -> dict[str, Any]:
    response = await client.put(RELAY, json=body, headers=await tenant.headers(client))
    assert response.status_code == 200, response.text
    saved: dict[str, Any] = response.json()
    return saved


async def test_the_relay_password_is_stored_sealed_and_opens_with_the_keyring(
    client: Client, tenant: TenantKit, settings: Settings
) -> None:
    password = f"pw-{secrets.token_hex(8)}"
    await put_relay(client, tenant, relay_body(2525, password))
    [row] = await owner_fetch(settings, "SELECT password_sealed FROM mail_relay WHERE tenant_id = $1", tenant.id)
    sealed = bytes(row["password_sealed"])
    assert sealed.startswith(b"fhk1:")
    assert password.encode() not in sealed
    assert settings.keyring().open(sealed, purpose=password_purpose(tenant.id)) == password.encode()


async def test_the_api_never_returns_the_relay_password(client: Client, tenant: TenantKit) -> None:
    password = f"pw-{secrets.token_hex(8)}"
    put = await client.put(RELAY, json=relay_body(2525, password), headers=await tenant.headers(client))
    got = await client.get(RELAY, headers=await tenant.headers(client))
    assert got.status_code == 200, got.text
    for response in (put, got):
        assert password not in response.text
        assert "password" not in response.json()
        assert response.json()["password_set"] is True
    assert got.json()["username"] == USERNAME


async def test_a_relay_change_is_audited_with_its_author_and_without_the_password(
    client: Client, tenant: TenantKit, settings: Settings
) -> None:
    password = f"pw-{secrets.token_hex(8)}"
    await put_relay(client, tenant, relay_body(2525, password))
    rows = await owner_fetch(
        settings,
        "SELECT actor_user_id, details::text AS details FROM audit_event"
        " WHERE tenant_id = $1 AND action = 'mail_relay.update'",
        tenant.id,
    )
    assert [row["actor_user_id"] for row in rows] == [tenant.users["admin"]]
    assert password not in rows[0]["details"]
    assert '"password": "set"' in rows[0]["details"]


async def test_saving_without_a_password_keeps_the_stored_one(
    client: Client, tenant: TenantKit, settings: Settings
) -> None:
    password = f"pw-{secrets.token_hex(8)}"
    await put_relay(client, tenant, relay_body(2525, password))
    body = relay_body(587, None)
    del body["password"]
    saved = await put_relay(client, tenant, body)
    assert (saved["port"], saved["password_set"]) == (587, True)
    [row] = await owner_fetch(settings, "SELECT password_sealed FROM mail_relay WHERE tenant_id = $1", tenant.id)
    assert settings.keyring().open(bytes(row["password_sealed"]), purpose=password_purpose(tenant.id)) == (
        password.encode()
    )


async def test_a_username_without_a_password_is_refused(client: Client, tenant: TenantKit) -> None:
    response = await client.put(RELAY, json=relay_body(2525, None), headers=await tenant.headers(client))
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "password_required"


async def test_rewrap_reseals_a_relay_password_under_the_new_key(scratch_database: str) -> None:
    # Its own database: a rewrap re-seals the installation's secrets, which other tests rely on.
    await asyncio.to_thread(migrate.upgrade, scratch_database)
    old, new = (base64.urlsafe_b64encode(secrets.token_bytes(32)).decode() for _ in range(2))
    before = Keyring.from_settings(encryption_key=f"k1:{old}", secret="s")
    after = Keyring.from_settings(encryption_key=f"k2:{new},k1:{old}", secret="s")
    engine = create_async_engine(asyncpg_url(scratch_database))
    try:
        async with AsyncSession(engine) as session, session.begin():
            tenant = await create_tenant(session, name="Acme", slug=f"t-{secrets.token_hex(4)}")
            tenant_id = tenant.id
        async with engine.begin() as connection:
            await connection.execute(
                text(
                    "INSERT INTO mail_relay (id, tenant_id, host, port, security, username, password_sealed,"
                    " from_address, created_at, updated_at) VALUES (gen_random_uuid(), :tenant, 'mail.acme.example',"
                    " 587, 'starttls_required', 'acme', :sealed, 'ops@acme.example', now(), now())"
                ),
                {"tenant": tenant_id, "sealed": before.seal(b"relay-pw", purpose=password_purpose(tenant_id))},
            )
            done = await rewrap(connection, after)
            sealed = await connection.scalar(text("SELECT password_sealed FROM mail_relay"))
    finally:
        await engine.dispose()
    assert done["mail_relay"] == 1
    assert sealed.startswith(b"fhk1:k2:")
    assert Keyring.from_settings(encryption_key=f"k2:{new}", secret="s").open(
        sealed, purpose=password_purpose(tenant_id)
    ) == (b"relay-pw")


async def test_a_test_mail_goes_to_the_caller_through_the_relay(client: Client, tenant: TenantKit) -> None:
    password = f"pw-{secrets.token_hex(8)}"
    with relay_requiring_auth(USERNAME, password) as (relay_inbox, _, port):
        await put_relay(client, tenant, relay_body(port, password))
        response = await client.post(f"{RELAY}/test", headers=await tenant.headers(client))
        assert response.status_code == 200, response.text
        message = await relay_inbox.wait_for(tenant.email("admin"))
    assert response.json()["to"] == tenant.email("admin")
    assert message["From"] == "Acme Ops <ops@acme.example>"


async def test_a_test_mail_with_a_wrong_password_reports_the_relays_refusal(client: Client, tenant: TenantKit) -> None:
    with relay_requiring_auth(USERNAME, "the-right-one") as (relay_inbox, credentials, port):
        await put_relay(client, tenant, relay_body(port, "a-wrong-one"))
        response = await client.post(f"{RELAY}/test", headers=await tenant.headers(client))
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "mail_relay_auth_failed"
    assert error["details"]["smtp_code"] == 535
    assert "Authentication" in error["details"]["reply"]
    assert credentials.refused > 0  # the wrong password was tried (once per mechanism)
    assert relay_inbox.messages == []


async def test_a_test_mail_to_a_relay_nobody_answers_says_it_is_unreachable(client: Client, tenant: TenantKit) -> None:
    await put_relay(client, tenant, relay_body(free_port(), "pw"))
    response = await client.post(f"{RELAY}/test", headers=await tenant.headers(client))
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "mail_relay_unreachable"


async def test_without_a_relay_reading_or_testing_it_is_not_found(client: Client, tenant: TenantKit) -> None:
    headers = await tenant.headers(client)
    for response in (await client.get(RELAY, headers=headers), await client.post(f"{RELAY}/test", headers=headers)):
        assert response.status_code == 404, response.text
        assert response.json()["error"]["code"] == "mail_relay_not_set"


async def test_a_deleted_relay_is_gone(client: Client, tenant: TenantKit) -> None:
    await put_relay(client, tenant, relay_body(2525, "pw"))
    deleted = await client.delete(RELAY, headers=await tenant.headers(client))
    assert deleted.status_code == 204, deleted.text
    assert (await client.get(RELAY, headers=await tenant.headers(client))).status_code == 404


async def test_a_user_without_the_tenant_admin_permission_is_refused(client: Client, tenant: TenantKit) -> None:
    await put_relay(client, tenant, relay_body(2525, "pw"))
    for role in ("staff", "supervisor", "moderator"):
        headers = await tenant.headers(client, role)
        responses = [
            await client.get(RELAY, headers=headers),
            await client.put(RELAY, json=relay_body(2626, "pw"), headers=headers),
            await client.post(f"{RELAY}/test", headers=headers),
            await client.delete(RELAY, headers=headers),
        ]
        assert [r.status_code for r in responses] == [403] * 4, role
    kept = await client.get(RELAY, headers=await tenant.headers(client))
    assert kept.json()["port"] == 2525


async def test_another_tenant_cannot_read_or_change_the_relay(
    client: Client, tenant: TenantKit, other_tenant: TenantKit
) -> None:
    mine = await put_relay(client, tenant, relay_body(2525, "pw", host="mail.mine.example"))
    theirs = await other_tenant.headers(client)
    assert (await client.get(RELAY, headers=theirs)).json()["error"]["code"] == "mail_relay_not_set"
    assert (await client.delete(RELAY, headers=theirs)).status_code == 404
    await put_relay(client, other_tenant, relay_body(2626, "pw", host="mail.theirs.example"))
    still = (await client.get(RELAY, headers=await tenant.headers(client))).json()
    assert (still["host"], still["port"], still["updated_at"]) == ("mail.mine.example", 2525, mine["updated_at"])
