"""Secrets at rest: sealed under a keyring with key ids, opened after a rotation, re-sealed by ``keys rewrap``;
an enrolled TOTP secret and a generated VAPID private key are stored sealed, never in clear. (The installation's
SMTP password lives only in ``FIELDHUB_SMTP_URL``; a tenant's own relay password is sealed too:
tests/api/mail_relay/test_mail_relay_api.py.)"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import os
import secrets

import asyncpg
import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from api.auth.mfa import TOTP_PURPOSE
from api.settings import Settings, SettingsError, load_settings
from delivery.vapid import PURPOSE as VAPID_PURPOSE
from delivery.vapid import load_vapid, public_key_of
from persistence import migrate
from persistence.backup import libpq_url
from persistence.encryption import Keyring, SealedValueError, rewrap
from persistence.engine import asyncpg_url
from tests.kit import TenantKit


def key() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()


def test_a_sealed_value_names_its_key_and_opens_only_for_its_purpose() -> None:
    keyring = Keyring.from_settings(encryption_key=f"k1:{key()}", secret="s")
    sealed = keyring.seal(b"JBSWY3DPEHPK3PXP", purpose="totp")
    assert sealed.startswith(b"fhk1:k1:")
    assert b"JBSWY3DPEHPK3PXP" not in sealed
    assert keyring.open(sealed, purpose="totp") == b"JBSWY3DPEHPK3PXP"
    with pytest.raises(SealedValueError):
        keyring.open(sealed, purpose="vapid:default")


def test_after_a_rotation_old_values_open_and_new_ones_use_the_new_key() -> None:
    old, new = key(), key()
    sealed = Keyring.from_settings(encryption_key=f"k1:{old}", secret="s").seal(b"x", purpose="totp")
    rotated = Keyring.from_settings(encryption_key=f"k2:{new},k1:{old}", secret="s")
    assert rotated.open(sealed, purpose="totp") == b"x"
    assert rotated.needs_rewrap(sealed)
    assert rotated.seal(b"x", purpose="totp").startswith(b"fhk1:k2:")
    with pytest.raises(SealedValueError, match="k1"):
        Keyring.from_settings(encryption_key=f"k2:{new}", secret="s").open(sealed, purpose="totp")


def test_a_malformed_encryption_key_is_a_configuration_error() -> None:
    for bad in ("nokey", f"k1:{key()},k1:{key()}", "k1:short", f"bad id:{key()}"):
        with pytest.raises(SettingsError, match="FIELDHUB_ENCRYPTION_KEY"):
            load_settings({"FIELDHUB_ENCRYPTION_KEY": bad})


async def test_rewrap_moves_a_secret_sealed_before_the_keyring_to_the_current_key(scratch_database: str) -> None:
    # Its own database: a rewrap re-seals the installation's secrets, which other tests rely on.
    await asyncio.to_thread(migrate.upgrade, scratch_database)
    secret = "the-secret-key"
    # The VAPID key as it was sealed before the keyring: a key derived from the secret key, no prefix.
    legacy_key = AESGCM(hashlib.sha256(b"fieldhub-vapid-key:" + secret.encode()).digest())
    nonce = os.urandom(12)
    legacy = nonce + legacy_key.encrypt(nonce, b"-----PEM-----", b"default")
    keyring = Keyring.from_settings(encryption_key=f"k9:{key()}", secret=secret)
    engine = create_async_engine(asyncpg_url(scratch_database))
    try:
        async with engine.begin() as connection:
            await connection.execute(
                text(
                    "INSERT INTO vapid_key (id, name, public_key, private_key_encrypted, created_at) "
                    "VALUES (gen_random_uuid(), 'default', 'public', :sealed, now())"
                ),
                {"sealed": legacy},
            )
            assert await rewrap(connection, keyring) == {"mfa_totp": 0, "vapid_key": 1, "mail_relay": 0}
            sealed = await connection.scalar(text("SELECT private_key_encrypted FROM vapid_key"))
    finally:
        await engine.dispose()
    assert sealed.startswith(b"fhk1:k9:")
    assert keyring.open(sealed, purpose="vapid:default") == b"-----PEM-----"


async def test_an_enrolled_totp_secret_is_stored_sealed_under_the_settings_key(
    client: AsyncTestClient[Litestar], tenant: TenantKit, settings: Settings
) -> None:
    enrolled = await client.post("/api/v1/auth/mfa/totp", headers=await tenant.headers(client, "staff"))
    assert enrolled.status_code in (200, 201), enrolled.text
    secret: str = enrolled.json()["secret"]
    connection = await asyncpg.connect(libpq_url(settings.database_url or ""))
    try:
        sealed = bytes(
            await connection.fetchval("SELECT secret_encrypted FROM mfa_totp WHERE user_id = $1", tenant.users["staff"])
        )
    finally:
        await connection.close()
    assert sealed.startswith(b"fhk1:")
    assert secret.encode() not in sealed
    assert settings.keyring().open(sealed, purpose=TOTP_PURPOSE) == secret.encode()


async def test_a_generated_vapid_private_key_is_stored_sealed_under_the_settings_key(scratch_database: str) -> None:
    # Its own database: the installation's VAPID key is shared by every test's push subscriptions.
    await asyncio.to_thread(migrate.upgrade, scratch_database)
    encryption_key = f"k7:{key()}"
    engine = create_async_engine(asyncpg_url(scratch_database))
    try:
        async with AsyncSession(engine) as session, session.begin():
            vapid = await load_vapid(session, secret="s", encryption_key=encryption_key)
        async with engine.connect() as connection:
            public, sealed = (
                await connection.execute(text("SELECT public_key, private_key_encrypted FROM vapid_key"))
            ).one()
    finally:
        await engine.dispose()
    assert sealed.startswith(b"fhk1:k7:")
    assert b"PRIVATE KEY" not in sealed
    pem = Keyring.from_settings(encryption_key=encryption_key, secret="s").open(sealed, purpose=VAPID_PURPOSE)
    assert pem == vapid.private_pem()
    assert public == public_key_of(vapid)
