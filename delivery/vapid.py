"""The installation's VAPID key pair: configured, or generated once and kept in Postgres (encrypted with the secret key)."""

from __future__ import annotations

import base64
import hashlib
import os
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from py_vapid import Vapid02
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from uuid_utils.compat import uuid7

from persistence.models import VapidKey

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

KEY_NAME = "default"


def _cipher(secret: str) -> AESGCM:
    return AESGCM(hashlib.sha256(b"fieldhub-vapid-key:" + secret.encode()).digest())


def public_key_of(vapid: Vapid02) -> str:
    """The application server key browsers pass to ``pushManager.subscribe``: base64url, uncompressed P-256 point."""
    raw = vapid.public_key.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


async def load_vapid(session: AsyncSession, *, secret: str, configured_private_key: str | None = None) -> Vapid02:
    """The VAPID key every push is signed with.

    A configured key (``FIELDHUB_VAPID_PRIVATE_KEY``, PEM or base64url DER) wins. Otherwise the key
    stored in Postgres is used, generated on first call; concurrent first calls agree on one key
    (insert-if-absent, then read). It is never regenerated: browsers bind subscriptions to it.
    """
    if configured_private_key:
        return Vapid02.from_string(private_key=configured_private_key)
    row = await session.scalar(select(VapidKey).where(VapidKey.name == KEY_NAME))
    if row is None:
        fresh = Vapid02()
        fresh.generate_keys()
        nonce = os.urandom(12)
        sealed = nonce + _cipher(secret).encrypt(nonce, fresh.private_pem(), KEY_NAME.encode())
        await session.execute(
            insert(VapidKey)
            .values(
                id=uuid7(),
                name=KEY_NAME,
                public_key=public_key_of(fresh),
                private_key_encrypted=sealed,
                created_at=datetime.now(UTC),
            )
            .on_conflict_do_nothing(index_elements=["name"])
        )
        row = await session.scalar(select(VapidKey).where(VapidKey.name == KEY_NAME))
        assert row is not None
    sealed = row.private_key_encrypted
    try:
        pem = _cipher(secret).decrypt(sealed[:12], sealed[12:], KEY_NAME.encode())
    except InvalidTag:
        raise VapidKeyError(
            "the stored VAPID key cannot be opened: FIELDHUB_SECRET_KEY differs from the one it was sealed "
            "with; restore that key (every push subscription depends on the VAPID key)"
        ) from None
    return Vapid02.from_pem(pem)


class VapidKeyError(RuntimeError):
    """The stored VAPID key was sealed with another secret key."""
