"""Opaque tokens: ``<tenant hex>.<secret>``, stored only as a keyed hash so a database leak yields none."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from uuid import UUID


class TokenKeys:
    """Issue and hash opaque tokens with the process's secret key.

    The tenant travels in the clear inside the token so a lookup can run under that tenant's
    row-level security; the secret half is 256 random bits.
    """

    def __init__(self, *, secret: str) -> None:
        self._key = hashlib.sha256(b"fieldhub-token:" + secret.encode()).digest()

    def digest(self, token: str) -> bytes:
        """Keyed SHA-256 of the whole token (32 bytes)."""
        return hmac.new(self._key, token.encode(), hashlib.sha256).digest()

    def issue(self, tenant_id: UUID) -> tuple[str, bytes]:
        """A new token for ``tenant_id`` and its digest."""
        token = f"{tenant_id.hex}.{secrets.token_urlsafe(32)}"
        return token, self.digest(token)

    @staticmethod
    def tenant_of(token: str) -> UUID | None:
        """The tenant named by ``token``, or ``None`` when it is not of our shape.

        >>> TokenKeys.tenant_of("0190c7a2c0f47c3e8c4c1f7d2f9b1a10.abc")
        UUID('0190c7a2-c0f4-7c3e-8c4c-1f7d2f9b1a10')
        """
        head, sep, tail = token.partition(".")
        if not sep or len(head) != 32 or not 20 <= len(tail) <= 64:
            return None
        try:
            return UUID(hex=head)
        except ValueError:
            return None
