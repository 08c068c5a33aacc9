"""Signed tokens for links sent to people (unsubscribe, approve from email): a msgspec body and its HMAC, URL-safe.

The token is ``<base64url body>.<base64url mac>``; the MAC is keyed with the installation's secret and
a context string per kind of link, so a token of one kind never verifies as another.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import TypeVar

import msgspec

T = TypeVar("T")
MAX_TOKEN_LENGTH = 512


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(secret: str, context: bytes, body: bytes) -> bytes:
    return hmac.new(context + secret.encode(), body, hashlib.sha256).digest()


def sign(secret: str, context: bytes, value: msgspec.Struct) -> str:
    """A URL-safe token carrying ``value`` (JSON), keyed with ``secret`` for ``context``."""
    body = msgspec.json.encode(value)
    return f"{_b64(body)}.{_b64(_mac(secret, context, body))}"


def verify(secret: str, context: bytes, token: str, kind: type[T]) -> T | None:
    """The value of a genuine token of ``context``; ``None`` for a forged, altered or malformed one."""
    body_text, sep, mac_text = token.partition(".")
    if not sep or len(token) > MAX_TOKEN_LENGTH:
        return None
    try:
        body, mac = _unb64(body_text), _unb64(mac_text)
    except ValueError:
        return None
    if not hmac.compare_digest(mac, _mac(secret, context, body)):
        return None
    try:
        return msgspec.json.decode(body, type=kind)
    except msgspec.DecodeError:
        return None
