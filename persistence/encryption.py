"""Encryption at rest of stored secrets (TOTP secrets, the VAPID private key, tenants' SMTP relay
passwords): AES-GCM under a keyring with key ids.

A sealed value is ``fhk1:<key id>:`` + 12-byte nonce + ciphertext, authenticated with its purpose
(``totp``, ``vapid:default``, ``smtp:<tenant id>``) so a value sealed for one purpose never opens as another.

The keyring comes from ``FIELDHUB_ENCRYPTION_KEY``: ``id:key`` pairs separated by commas, each key
32 bytes in base64url (``python -c "import secrets,base64;print(base64.urlsafe_b64encode(secrets.token_bytes(32)).decode())"``).
The first pair seals; all of them open. **Rotation**: put a new pair first and keep the old ones,
run ``fieldhub keys rewrap`` (every stored secret re-sealed under the first key), then drop the
old pairs. Unset (development), one key ``dev`` is derived from the secret key.

Values sealed before key ids existed (no prefix) were sealed under a key derived from the
secret key per purpose; they still open, and ``fieldhub keys rewrap`` moves them to the keyring.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from typing import TYPE_CHECKING, Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import text

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection

__all__ = ["Keyring", "KeyringError", "SealedValueError", "parse_keys", "rewrap"]

PREFIX: Final = b"fhk1:"
DEV_KEY_ID: Final = "dev"
# How secrets were sealed before the keyring: a key per purpose derived from the secret key.
_LEGACY: Final = {"totp": (b"fieldhub-totp:", None), "vapid:default": (b"fieldhub-vapid-key:", b"default")}


class KeyringError(ValueError):
    """``FIELDHUB_ENCRYPTION_KEY`` is malformed; the message says how."""


class SealedValueError(ValueError):
    """A sealed value opens with no key of the keyring (a key was dropped too early, or the value was altered)."""


class Keyring:
    """Seal and open secrets at rest.

    Args:
        keys: ``(key id, 32-byte key)`` pairs; the first one seals.
        secret: the installation's secret key, to open values sealed before the keyring.
    """

    def __init__(self, *, keys: list[tuple[str, bytes]], secret: str) -> None:
        if not keys:
            raise KeyringError("the keyring needs at least one key")
        self._keys = {key_id: AESGCM(key) for key_id, key in keys}
        self._current = keys[0][0]
        self._secret = secret

    @classmethod
    def from_settings(cls, *, encryption_key: str | None, secret: str) -> Keyring:
        """The keyring of ``FIELDHUB_ENCRYPTION_KEY``, or the development key derived from ``secret``."""
        if not encryption_key:
            return cls(
                keys=[(DEV_KEY_ID, hashlib.sha256(b"fieldhub-at-rest:" + secret.encode()).digest())], secret=secret
            )
        return cls(keys=parse_keys(encryption_key), secret=secret)

    @property
    def current_key_id(self) -> str:
        return self._current

    def seal(self, plaintext: bytes, *, purpose: str) -> bytes:
        nonce = os.urandom(12)
        sealed = self._keys[self._current].encrypt(nonce, plaintext, purpose.encode())
        return PREFIX + self._current.encode() + b":" + nonce + sealed

    def open(self, sealed: bytes, *, purpose: str) -> bytes:
        """The plaintext of ``sealed``.

        Raises:
            SealedValueError: no key of the keyring opens it.
        """
        key_id = self.key_id_of(sealed)
        try:
            if key_id is None:
                label, aad = _LEGACY[purpose]
                legacy = AESGCM(hashlib.sha256(label + self._secret.encode()).digest())
                return legacy.decrypt(sealed[:12], sealed[12:], aad)
            body = sealed[len(PREFIX) + len(key_id) + 1 :]
            return self._keys[key_id].decrypt(body[:12], body[12:], purpose.encode())
        except (InvalidTag, KeyError):
            raise SealedValueError(
                f"a stored {purpose} secret opens with no key of FIELDHUB_ENCRYPTION_KEY (sealed with key "
                f"{key_id or 'of the secret key'!r}); restore that key"
            ) from None

    def key_id_of(self, sealed: bytes) -> str | None:
        """The key id a value was sealed with (``None``: sealed before the keyring)."""
        if not sealed.startswith(PREFIX):
            return None
        key_id, colon, _ = sealed[len(PREFIX) :].partition(b":")
        # A legacy value is a random nonce first: it starts with the prefix once in 2**40.
        return key_id.decode(errors="replace") if colon else None

    def needs_rewrap(self, sealed: bytes) -> bool:
        return self.key_id_of(sealed) != self._current


def parse_keys(value: str) -> list[tuple[str, bytes]]:
    """``"k2:<base64url>,k1:<base64url>"`` -> ``[("k2", key), ("k1", key)]``.

    Raises:
        KeyringError: a pair without an id, a repeated id, or a key that is not 32 bytes of base64url.
    """
    keys: list[tuple[str, bytes]] = []
    for pair in (part.strip() for part in value.split(",") if part.strip()):
        key_id, colon, encoded = pair.partition(":")
        if not colon or not key_id.isalnum() or len(key_id) > 16:
            raise KeyringError(f"expected id:key pairs with an alphanumeric id, got {key_id!r}")
        if any(key_id == known for known, _ in keys):
            raise KeyringError(f"key id {key_id!r} appears twice")
        try:
            key = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
        except (binascii.Error, ValueError):
            key = b""
        if len(key) != 32:
            raise KeyringError(f"key {key_id!r} must be 32 bytes in base64url")
        keys.append((key_id, key))
    if not keys:
        raise KeyringError("expected at least one id:key pair")
    return keys


async def rewrap(connection: AsyncConnection, keyring: Keyring) -> dict[str, int]:
    """Re-seal every stored secret not sealed with the keyring's current key; how many per table.

    Runs as the owner (it crosses tenants), in the caller's transaction.
    """
    stored = {
        "mfa_totp": "SELECT id, secret_encrypted AS sealed, 'totp' AS purpose FROM mfa_totp",
        "vapid_key": "SELECT id, private_key_encrypted AS sealed, 'vapid:' || name AS purpose FROM vapid_key",
        "mail_relay": (
            "SELECT id, password_sealed AS sealed, 'smtp:' || tenant_id::text AS purpose"
            " FROM mail_relay WHERE password_sealed IS NOT NULL"
        ),
    }
    column = {"mfa_totp": "secret_encrypted", "vapid_key": "private_key_encrypted", "mail_relay": "password_sealed"}
    done = dict.fromkeys(stored, 0)
    for table, query in stored.items():
        for row_id, sealed, purpose in (await connection.execute(text(query))).all():
            if keyring.needs_rewrap(sealed):
                resealed = keyring.seal(keyring.open(sealed, purpose=purpose), purpose=purpose)
                update = text(f"UPDATE {table} SET {column[table]} = :sealed WHERE id = :id")  # noqa: S608
                await connection.execute(update, {"sealed": resealed, "id": row_id})
                done[table] += 1
    return done
