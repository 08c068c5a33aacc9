"""A local Web Push service stand-in: checks the VAPID JWT (ES256, aud, exp, sub) and decrypts the payload (RFC 8291)."""

from __future__ import annotations

import base64
import json
import socket
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import http_ece
from aiohttp import web
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from delivery.push import SubscriptionInfo, SubscriptionKeys


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


def verify_vapid(authorization: str, audience: str) -> dict[str, Any]:
    """Check ``vapid t=<jwt>,k=<key>``: the ES256 signature with ``k`` and the claims; return the claims."""
    scheme, _, params = authorization.partition(" ")
    assert scheme == "vapid"
    fields = dict(part.split("=", 1) for part in params.split(","))
    header_b64, claims_b64, signature_b64 = fields["t"].split(".")
    assert json.loads(_unb64(header_b64))["alg"] == "ES256"
    public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), _unb64(fields["k"]))
    raw = _unb64(signature_b64)
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    public.verify(der, f"{header_b64}.{claims_b64}".encode(), ec.ECDSA(hashes.SHA256()))
    claims: dict[str, Any] = json.loads(_unb64(claims_b64))
    assert claims["aud"] == audience
    assert time.time() < claims["exp"] <= time.time() + 24 * 3600
    assert claims["sub"].startswith(("mailto:", "https:"))
    return claims


class PushService:
    """Answers each endpoint path from a script of statuses (then 201); records what it decrypted."""

    def __init__(self, browser: FakeBrowser) -> None:
        self.browser = browser
        self.scripts: dict[str, list[tuple[int, dict[str, str]]]] = {}
        self.received: list[dict[str, Any]] = []
        self.hits: dict[str, int] = {}
        self.port = 0

    def endpoint(self, name: str, *answers: tuple[int, dict[str, str]]) -> str:
        self.scripts[name] = list(answers)
        return f"http://127.0.0.1:{self.port}/push/{name}"

    async def handle(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        self.hits[name] = self.hits.get(name, 0) + 1
        verify_vapid(request.headers["Authorization"], f"http://127.0.0.1:{self.port}")
        assert request.headers["Content-Encoding"] == "aes128gcm"
        body = await request.read()
        assert len(body) <= 4096
        script = self.scripts.get(name, [])
        if script:
            status, headers = script.pop(0)
            return web.Response(status=status, headers=headers)
        plain = http_ece.decrypt(body, private_key=self.browser.key, auth_secret=self.browser.auth, version="aes128gcm")
        self.received.append(
            {
                "endpoint": name,
                "payload": json.loads(plain),
                "ttl": request.headers["TTL"],
                "urgency": request.headers["Urgency"],
                "topic": request.headers["Topic"],
            }
        )
        return web.Response(status=201)


@asynccontextmanager
async def running_push_service(browser: FakeBrowser) -> AsyncIterator[PushService]:
    service = PushService(browser)
    app = web.Application()
    app.router.add_post("/push/{name}", service.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        service.port = probe.getsockname()[1]
    site = web.TCPSite(runner, "127.0.0.1", service.port)
    await site.start()
    try:
        yield service
    finally:
        await runner.cleanup()
