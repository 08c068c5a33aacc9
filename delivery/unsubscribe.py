"""Signed one-click unsubscribe links (RFC 8058): the token names tenant, user and category, keyed with HMAC."""

from __future__ import annotations

from uuid import UUID

import msgspec

from delivery.signing import sign, verify

_CONTEXT = b"fieldhub-unsubscribe-v1:"


class UnsubscribeTarget(msgspec.Struct, frozen=True, array_like=True):
    """Whose email of which category a link turns off."""

    tenant_id: UUID
    user_id: UUID
    category: str


def sign_unsubscribe(secret: str, target: UnsubscribeTarget) -> str:
    """A URL-safe token for ``target``: ``<body>.<mac>``."""
    return sign(secret, _CONTEXT, target)


def verify_unsubscribe(secret: str, token: str) -> UnsubscribeTarget | None:
    """The target of a genuine token; ``None`` for a forged, altered or malformed one."""
    return verify(secret, _CONTEXT, token, UnsubscribeTarget)
