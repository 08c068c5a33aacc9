"""Signed one-click unsubscribe links (RFC 8058): the token names tenant, user and category, keyed with HMAC."""

from __future__ import annotations

import base64
import hashlib
import hmac
from uuid import UUID

import msgspec

_CONTEXT = b"fieldhub-unsubscribe-v1:"


class UnsubscribeTarget(msgspec.Struct, frozen=True, array_like=True):
    """Whose email of which category a link turns off."""

    tenant_id: UUID
    user_id: UUID
    category: str


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(secret: str, body: bytes) -> bytes:
    return hmac.new(_CONTEXT + secret.encode(), body, hashlib.sha256).digest()


def sign_unsubscribe(secret: str, target: UnsubscribeTarget) -> str:
    """A URL-safe token for ``target``: ``<body>.<mac>``."""
    body = msgspec.json.encode(target)
    return f"{_b64(body)}.{_b64(_mac(secret, body))}"


def verify_unsubscribe(secret: str, token: str) -> UnsubscribeTarget | None:
    """The target of a genuine token; ``None`` for a forged, altered or malformed one."""
    body_text, sep, mac_text = token.partition(".")
    if not sep or len(token) > 512:
        return None
    try:
        body, mac = _unb64(body_text), _unb64(mac_text)
    except ValueError:
        return None
    if not hmac.compare_digest(mac, _mac(secret, body)):
        return None
    try:
        return msgspec.json.decode(body, type=UnsubscribeTarget)
    except msgspec.DecodeError:
        return None
