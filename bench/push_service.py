"""A local Web Push service stand-in: checks the VAPID JWT (ES256, aud, exp, sub) and decrypts the payload (RFC 8291).

Shared by the delivery tests (``PushService``: answers each endpoint from a script of statuses) and
``bench.delivery`` (the same checks on every request, counting what arrives). Needs the dev
dependencies (``http_ece``, ``aiohttp``); nothing here is part of the product.
"""

from __future__ import annotations

import base64
import functools
import json
import socket
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import http_ece
from aiohttp import web
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from delivery.push import SubscriptionInfo, SubscriptionKeys

MAX_BODY = 4096


class PushRejected(ValueError):
    """The request is not one a real push service would accept; ``status`` is what it answers."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class FakeBrowser:
    """A browser's push key pair and auth secret, as ``pushManager.subscribe`` makes them."""

    def __init__(self) -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.auth = bytes(range(16))

    def subscription(self, endpoint: str) -> SubscriptionInfo:
        point = self.key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return SubscriptionInfo(endpoint=endpoint, keys=SubscriptionKeys(p256dh=_b64(point), auth=_b64(self.auth)))

    def decrypt(self, body: bytes) -> bytes:
        """The plain payload of an ``aes128gcm`` body encrypted for this browser."""
        plain: bytes = http_ece.decrypt(body, private_key=self.key, auth_secret=self.auth, version="aes128gcm")
        return plain


def verify_vapid(authorization: str, audience: str) -> dict[str, Any]:
    """Check ``vapid t=<jwt>,k=<key>``: the ES256 signature with ``k`` and the claims; return the claims.

    The signature is checked once per distinct token (a sender reuses one for minutes, and a real
    push service caches it too); the claims, ``exp`` included, on every request.

    Raises:
        PushRejected: 401 for a missing, malformed or badly signed token, 403 for wrong claims.
    """
    claims = _signed_claims(authorization)
    if claims.get("aud") != audience:
        raise PushRejected(403, f"aud {claims.get('aud')!r} is not {audience!r}")
    if not time.time() < claims.get("exp", 0) <= time.time() + 24 * 3600:
        raise PushRejected(403, "exp not within the next 24 hours")
    if not str(claims.get("sub", "")).startswith(("mailto:", "https:")):
        raise PushRejected(403, "sub is not a mailto: or https: URL")
    return claims


@functools.lru_cache(maxsize=1024)
def _signed_claims(authorization: str) -> dict[str, Any]:
    """The claims of a token whose ES256 signature checks out with its ``k`` (a rejection is not cached)."""
    scheme, _, params = authorization.partition(" ")
    if scheme != "vapid":
        raise PushRejected(401, "not a vapid authorization")
    try:
        fields = dict(part.split("=", 1) for part in params.split(","))
        header_b64, claims_b64, signature_b64 = fields["t"].split(".")
        if json.loads(_unb64(header_b64))["alg"] != "ES256":
            raise PushRejected(401, "not ES256")
        public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), _unb64(fields["k"]))
        raw = _unb64(signature_b64)
        der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
        public.verify(der, f"{header_b64}.{claims_b64}".encode(), ec.ECDSA(hashes.SHA256()))
        claims: dict[str, Any] = json.loads(_unb64(claims_b64))
    except (KeyError, ValueError, InvalidSignature) as exc:
        if isinstance(exc, PushRejected):
            raise
        raise PushRejected(401, f"bad vapid token: {type(exc).__name__}") from None
    return claims


async def open_push(request: web.Request, browser: FakeBrowser, audience: str) -> dict[str, Any]:
    """Check a push request as a push service does and decrypt it.

    Returns:
        ``payload`` (the decrypted JSON), ``ttl``, ``urgency``, ``topic``.

    Raises:
        PushRejected: a bad VAPID token or claims, a missing header, a body over 4 KiB, or one
            that does not decrypt with the browser's keys.
    """
    verify_vapid(request.headers.get("Authorization", ""), audience)
    if request.headers.get("Content-Encoding") != "aes128gcm":
        raise PushRejected(415, "Content-Encoding must be aes128gcm")
    if "TTL" not in request.headers:
        raise PushRejected(400, "TTL header missing")
    body = await request.read()
    if len(body) > MAX_BODY:
        raise PushRejected(413, f"body of {len(body)} bytes is over 4 KiB")
    try:
        payload = json.loads(browser.decrypt(body))
    except Exception as exc:
        raise PushRejected(400, f"payload does not decrypt: {type(exc).__name__}") from None
    return {
        "payload": payload,
        "ttl": request.headers["TTL"],
        "urgency": request.headers.get("Urgency"),
        "topic": request.headers.get("Topic"),
    }


class PushService:
    """Answers each endpoint path from a script of statuses (then 201); records what it decrypted."""

    def __init__(self, browser: FakeBrowser) -> None:
        self.browser = browser
        self.scripts: dict[str, list[tuple[int, dict[str, str]]]] = {}
        self.received: list[dict[str, Any]] = []
        self.hits: dict[str, int] = {}
        self.rejected: list[str] = []
        self.port = 0
        self.on_received: Callable[[dict[str, Any]], None] | None = None
        """Called with each push accepted, before the 201 is answered (a test kills its sender here)."""

    @property
    def audience(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def endpoint(self, name: str, *answers: tuple[int, dict[str, str]]) -> str:
        self.scripts[name] = list(answers)
        return f"http://127.0.0.1:{self.port}/push/{name}"

    async def handle(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        self.hits[name] = self.hits.get(name, 0) + 1
        script = self.scripts.get(name, [])
        try:
            verify_vapid(request.headers.get("Authorization", ""), self.audience)
            if script:
                status, headers = script.pop(0)
                return web.Response(status=status, headers=headers)
            push = await open_push(request, self.browser, self.audience)
        except PushRejected as exc:
            self.rejected.append(str(exc))
            return web.Response(status=exc.status, text=str(exc))
        self.received.append({"endpoint": name, **push})
        if self.on_received is not None:
            self.on_received(self.received[-1])
        return web.Response(status=201)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@asynccontextmanager
async def running_push_service(browser: FakeBrowser) -> AsyncIterator[PushService]:
    """A scripted push service on a free port of 127.0.0.1 for the duration of the block."""
    service = PushService(browser)
    app = web.Application()
    app.router.add_post("/push/{name}", service.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    service.port = _free_port()
    site = web.TCPSite(runner, "127.0.0.1", service.port)
    await site.start()
    try:
        yield service
    finally:
        await runner.cleanup()
