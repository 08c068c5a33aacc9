"""The installation's VAPID key pair: configured, or generated once and kept in Postgres (sealed at rest)."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from cryptography.hazmat.primitives import serialization
from py_vapid import Vapid02
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from uuid_utils.compat import uuid7

from persistence.encryption import Keyring, SealedValueError
from persistence.models import VapidKey

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

KEY_NAME = "default"


PURPOSE = f"vapid:{KEY_NAME}"


def public_key_of(vapid: Vapid02) -> str:
    """The application server key browsers pass to ``pushManager.subscribe``: base64url, uncompressed P-256 point."""
    raw = vapid.public_key.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


async def load_vapid(
    session: AsyncSession, *, secret: str, configured_private_key: str | None = None, encryption_key: str | None = None
) -> Vapid02:
    """The VAPID key every push is signed with.

    A configured key (``FIELDHUB_VAPID_PRIVATE_KEY``, PEM or base64url DER) wins. Otherwise the key
    stored in Postgres is used, generated on first call; concurrent first calls agree on one key
    (insert-if-absent, then read). It is never regenerated: browsers bind subscriptions to it.
    The stored key is sealed with the keyring of ``encryption_key`` (``FIELDHUB_ENCRYPTION_KEY``),
    or the development key derived from ``secret`` when that is unset.
    """
    keyring = Keyring.from_settings(encryption_key=encryption_key, secret=secret)
    if configured_private_key:
        return Vapid02.from_string(private_key=configured_private_key)
    row = await session.scalar(select(VapidKey).where(VapidKey.name == KEY_NAME))
    if row is None:
        fresh = Vapid02()
        fresh.generate_keys()
        sealed = keyring.seal(fresh.private_pem(), purpose=PURPOSE)
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
    try:
        pem = keyring.open(row.private_key_encrypted, purpose=PURPOSE)
    except SealedValueError:
        raise VapidKeyError(
            "the stored VAPID key cannot be opened: FIELDHUB_ENCRYPTION_KEY (or, unset, FIELDHUB_SECRET_KEY) lacks "
            "the key it was sealed with; restore that key (every push subscription depends on the VAPID key)"
        ) from None
    return Vapid02.from_pem(pem)


class VapidKeyError(RuntimeError):
    """The stored VAPID key was sealed with another secret key."""
