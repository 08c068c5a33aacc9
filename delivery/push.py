"""Web Push: validate browser subscriptions, and send encrypted (aes128gcm) VAPID-signed pushes with pywebpush."""

from __future__ import annotations

import base64
import binascii
import time
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Literal
from urllib.parse import urlsplit

import aiohttp
import msgspec
from cryptography.hazmat.primitives.asymmetric import ec
from pywebpush import WebPusher

from delivery.errors import NotifyError

if TYPE_CHECKING:
    from py_vapid import Vapid02

PushUrgency = Literal["very-low", "low", "normal", "high"]
PushStatus = Literal["sent", "gone", "retry", "failed"]
MAX_PAYLOAD_BYTES = 3000
"""Plain payload ceiling: with the aes128gcm header and padding the body stays well under the 4 KiB limit."""


class SubscriptionKeys(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    p256dh: str
    auth: str


class SubscriptionInfo(msgspec.Struct, frozen=True, kw_only=True):
    """A browser's ``PushSubscription.toJSON()``."""

    endpoint: str
    keys: SubscriptionKeys
    expiration_time: float | None = msgspec.field(default=None, name="expirationTime")


class PushOutcome(msgspec.Struct, frozen=True, kw_only=True):
    """What the push service answered: ``sent``; ``gone`` (404/410: forget the subscription); ``retry``
    (429, 5xx, network; ``retry_after`` seconds when the service said); ``failed`` (any other refusal)."""

    status: PushStatus
    http_status: int | None = None
    retry_after: float | None = None
    detail: str = ""


def _b64decode(value: str) -> bytes:
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))


def check_subscription(info: SubscriptionInfo, *, allow_insecure: bool = False) -> None:
    """Refuse a subscription no browser would produce.

    Raises:
        NotifyError: ``invalid_subscription`` naming the field: an endpoint that is not an https URL
            (http only with ``allow_insecure``, for a local stand-in), a ``p256dh`` that is not an
            uncompressed P-256 point, an ``auth`` secret that is not 16 bytes.
    """
    endpoint = urlsplit(info.endpoint)
    schemes = ("https", "http") if allow_insecure else ("https",)
    if endpoint.scheme not in schemes or not endpoint.hostname or len(info.endpoint) > 2048:
        raise NotifyError("invalid_subscription", "The endpoint must be an https URL.", details={"field": "endpoint"})
    try:
        point = _b64decode(info.keys.p256dh)
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
        if len(point) != 65:
            raise ValueError("not an uncompressed point")
    except (ValueError, binascii.Error):
        raise NotifyError(
            "invalid_subscription", "keys.p256dh is not a P-256 public key.", details={"field": "keys.p256dh"}
        ) from None
    try:
        secret = _b64decode(info.keys.auth)
    except (ValueError, binascii.Error):
        secret = b""
    if len(secret) != 16:
        raise NotifyError(
            "invalid_subscription", "keys.auth must be 16 bytes, base64url.", details={"field": "keys.auth"}
        )


def _retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header: ``"120"`` -> ``120.0``; an HTTP date -> seconds until then."""
    if not value:
        return None
    if value.strip().isdigit():
        return float(value.strip())
    try:
        return max((parsedate_to_datetime(value) - datetime.now(UTC)).total_seconds(), 0.0)
    except (TypeError, ValueError):
        return None


VAPID_TOKEN_REUSE_SECONDS = 600.0
"""How long one signed VAPID token serves a push service: signing (ES256) per push cost more CPU than
the push itself. Each token is signed over a fresh claims dict and is valid for 12 hours."""
VAPID_TOKEN_VALID_SECONDS = 12 * 3600


class PushSender:
    """Send pushes through one pooled HTTP client (keep-alive connections per push service).

    Args:
        vapid: the installation's key (see :func:`delivery.vapid.load_vapid`).
        subject: the VAPID ``sub`` claim, ``mailto:`` or ``https:``.
        timeout: seconds for one whole request to a push service.
    """

    def __init__(self, *, vapid: Vapid02, subject: str, timeout: float = 10.0) -> None:
        self._vapid = vapid
        self._subject = subject
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: aiohttp.ClientSession | None = None
        self._tokens: dict[str, tuple[float, str]] = {}

    def _authorization(self, audience: str) -> str:
        """The ``Authorization`` header for ``audience``, signed again once it is
        ``VAPID_TOKEN_REUSE_SECONDS`` old (long before its 12-hour ``exp``)."""
        now = time.monotonic()
        cached = self._tokens.get(audience)
        if cached is not None and now - cached[0] < VAPID_TOKEN_REUSE_SECONDS:
            return cached[1]
        # A fresh claims dict per signature: py_vapid mutates the one it is given.
        claims: dict[str, str | int] = {
            "sub": self._subject,
            "aud": audience,
            "exp": int(time.time()) + VAPID_TOKEN_VALID_SECONDS,
        }
        header: str = self._vapid.sign(claims)["Authorization"]
        self._tokens[audience] = (now, header)
        return header

    async def send(
        self, info: SubscriptionInfo, payload: bytes, *, ttl: int, urgency: PushUrgency, topic: str
    ) -> PushOutcome:
        """Encrypt ``payload`` for the subscription and post it; never raises for the service's answer.

        ``topic`` (at most 32 URL-safe characters) makes this push replace an undelivered one with
        the same topic. Returns once the push service answered, not when the browser got it.
        """
        if len(payload) > MAX_PAYLOAD_BYTES:
            return PushOutcome(status="failed", detail=f"payload of {len(payload)} bytes is too large")
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        endpoint = urlsplit(info.endpoint)
        # pywebpush encrypts (aes128gcm, a fresh ECDH key per message as RFC 8291 asks); the request
        # itself goes straight through the pooled session with headers made once.
        keys = {"p256dh": info.keys.p256dh, "auth": info.keys.auth}
        body = WebPusher({"endpoint": info.endpoint, "keys": keys}).encode(payload, "aes128gcm")["body"]
        headers = {
            "Authorization": self._authorization(f"{endpoint.scheme}://{endpoint.netloc}"),
            "Content-Encoding": "aes128gcm",
            "TTL": str(ttl),
            "Urgency": urgency,
            "Topic": topic,
        }
        try:
            async with self._session.post(info.endpoint, data=body, headers=headers) as response:
                status = response.status
                retry_after = response.headers.get("Retry-After")
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            return PushOutcome(status="retry", detail=f"{type(exc).__name__}: {exc}"[:300])
        if status in (200, 201, 202):
            return PushOutcome(status="sent", http_status=status)
        if status in (404, 410):
            return PushOutcome(status="gone", http_status=status, detail="subscription expired")
        if status == 429 or status >= 500:
            return PushOutcome(status="retry", http_status=status, retry_after=_retry_after(retry_after))
        return PushOutcome(status="failed", http_status=status, detail=f"push service refused with {status}")

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
