"""Log hygiene: a realistic session logged at DEBUG by every logger leaks no secret and no body, and
every request line names its request, user and tenant."""

from __future__ import annotations

import json
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import httpx
import pyotp
import pytest
import websockets
from litestar import Litestar

from api.app import create_app
from api.runtime import Runtime
from api.settings import Settings
from bench.push_service import FakeBrowser
from tests.api.observability.conftest import LogCapture
from tests.delivery.workers import running_worker
from tests.kit import PASSWORD, TenantKit
from tests.mailbox import Inbox
from tests.nodes import frame_where, next_frame
from tests.serving import served


@pytest.fixture(scope="module")
async def hygiene_app(settings: Settings) -> Litestar:
    return create_app(settings)


@pytest.fixture
async def base_url(hygiene_app: Litestar) -> AsyncIterator[str]:
    async with served(hygiene_app) as url:
        yield url


def marker() -> str:
    """A value found nowhere else: random from its first character to its last."""
    return secrets.token_hex(12)


def traces(value: str) -> set[str]:
    """What of ``value`` would give it away: itself, and its head and tail (loggers shorten long values)."""
    return {value, value[:12], value[-12:]} if len(value) > 12 else {value}


@dataclass
class Secrets:
    """Every value of the session that must never reach a log line."""

    values: list[tuple[str, str]] = field(default_factory=list)

    def add(self, kind: str, value: str) -> str:
        self.values.append((kind, value))
        return value

    def new(self, kind: str) -> str:
        return self.add(kind, marker())


async def _sign_in(http: httpx.AsyncClient, tenant: TenantKit, role: str, seen: Secrets) -> dict[str, str]:
    refused = await http.post(
        "/api/v1/auth/login",
        json={"email": tenant.email(role), "password": seen.new("wrong-password"), "tenant": tenant.slug},
    )
    assert refused.status_code == 401, refused.text
    response = await http.post(
        "/api/v1/auth/login", json={"email": tenant.email(role), "password": PASSWORD, "tenant": tenant.slug}
    )
    assert response.status_code == 200, response.text
    seen.add("password", PASSWORD)
    seen.add(f"token-{role}", response.json()["token"])
    seen.add(f"cookie-{role}", response.cookies["fieldhub_session"])
    http.cookies.clear()
    return {"Authorization": f"Bearer {response.json()['token']}"}


async def _chat(
    http: httpx.AsyncClient, base_url: str, tenant: TenantKit, headers: dict[str, str], seen: Secrets
) -> None:
    created = await http.post(
        "/api/v1/conversations",
        json={"name": f"room {marker()}", "member_ids": [str(tenant.users["supervisor"])]},
        headers=headers,
    )
    assert created.status_code == 201, created.text
    conversation_id = created.json()["id"]
    ticket = (await http.post("/api/v1/auth/ws-ticket", headers=headers)).json()["ticket"]
    seen.add("ticket", ticket)
    async with websockets.connect(f"{base_url.replace('http', 'ws')}/ws?ticket={ticket}", compression=None) as ws:
        await next_frame(ws, "hello")
        send = {"type": "send", "ref": "s", "conversation_id": conversation_id, "client_id": "c1"}
        await ws.send(json.dumps({**send, "body": seen.new("ws-body")}))
        ack = await frame_where(ws, lambda f: f.get("ref") == "s")
        assert ack["type"] == "ack", ack
        await ws.send(
            json.dumps({"type": "edit", "ref": "e", "message_id": ack["message"]["id"], "body": seen.new("ws-edit")})
        )
        assert (await frame_where(ws, lambda f: f.get("ref") == "e"))["type"] == "ack"
        # A frame refused by validation must not echo what it carried into the logs either.
        await ws.send(json.dumps({**send, "ref": "x", "client_id": 7, "body": seen.new("refused-frame-body")}))
        assert (await frame_where(ws, lambda f: f.get("ref") == "x"))["type"] == "error"
    posted = await http.post(
        f"/api/v1/conversations/{conversation_id}/messages",
        json={"client_id": "h1", "body": seen.new("http-body")},
        headers=headers,
    )
    assert posted.status_code == 201, posted.text
    edited = await http.patch(
        f"/api/v1/messages/{posted.json()['message']['id']}", json={"body": seen.new("http-edit")}, headers=headers
    )
    assert edited.status_code == 200, edited.text
    refused = await http.post(
        f"/api/v1/conversations/{conversation_id}/messages",
        json={"client_id": ["not", "a", "string"], "body": seen.new("refused-http-body")},
        headers=headers,
    )
    assert refused.status_code == 400, refused.text


async def _account(http: httpx.AsyncClient, headers: dict[str, str], seen: Secrets) -> None:
    content = seen.new("file-content").encode()
    uploaded = await http.post("/api/v1/files", files={"file": ("notes.txt", content, "text/plain")}, headers=headers)
    assert uploaded.status_code == 201, uploaded.text
    browser = FakeBrowser().subscription(f"https://push.example/{seen.new('push-endpoint')}")
    seen.add("push-p256dh", browser.keys.p256dh)
    seen.add("push-auth", browser.keys.auth)
    subscribed = await http.post(
        "/api/v1/push/subscriptions",
        json={"endpoint": browser.endpoint, "keys": {"p256dh": browser.keys.p256dh, "auth": browser.keys.auth}},
        headers=headers,
    )
    assert subscribed.status_code == 201, subscribed.text
    enrolled = (await http.post("/api/v1/auth/mfa/totp", headers=headers)).json()
    totp = pyotp.TOTP(seen.add("totp-secret", enrolled["secret"]))
    confirmed = await http.post(
        "/api/v1/auth/mfa/totp/confirm", json={"code": seen.add("totp-code", totp.now())}, headers=headers
    )
    assert confirmed.status_code == 200, confirmed.text
    for number, code in enumerate(confirmed.json()["recovery_codes"]):
        seen.add(f"recovery-code-{number}", code)


async def _notify_and_mail(
    http: httpx.AsyncClient, tenant: TenantKit, headers: dict[str, str], inbox: Inbox, seen: Secrets
) -> None:
    sent = await http.post(
        "/api/v1/notifications",
        json={
            "recipients": {"users": [str(tenant.users["staff"])]},
            "category": "safety",
            "priority": "critical",
            "title": seen.new("notification-title"),
            "body": seen.new("notification-body"),
            "idempotency_key": secrets.token_hex(8),
        },
        headers=headers,
    )
    assert sent.status_code == 201, sent.text
    await inbox.wait_for(tenant.email("staff"), timeout=20)


async def _change_password(http: httpx.AsyncClient, headers: dict[str, str], seen: Secrets) -> None:
    changed = await http.post(
        "/api/v1/auth/password/change",
        json={"current_password": PASSWORD, "new_password": seen.new("new-password")},
        headers=headers,
    )
    assert changed.status_code == 200, changed.text


async def _session(base_url: str, tenant: TenantKit, inbox: Inbox, seen: Secrets) -> None:
    async with httpx.AsyncClient(base_url=base_url) as http:
        admin = await _sign_in(http, tenant, "admin", seen)
        await _chat(http, base_url, tenant, admin, seen)
        await _notify_and_mail(http, tenant, admin, inbox, seen)
        staff = await _sign_in(http, tenant, "staff", seen)
        await _account(http, staff, seen)
        await _change_password(http, staff, seen)


async def test_a_session_logged_at_debug_leaks_no_secret_and_no_body(
    base_url: str,
    tenant: TenantKit,
    runtime: Runtime,
    smtp_server: tuple[Inbox, int],
    captured_logs: LogCapture,
) -> None:
    seen = Secrets()
    async with running_worker(runtime, tenant, smtp_port=smtp_server[1]):
        await _session(base_url, tenant, smtp_server[0], seen)
    assert len(captured_logs.lines) > 100  # the capture did see the session
    leaked = [(kind, value) for kind, value in seen.values if any(part in captured_logs.text for part in traces(value))]
    assert leaked == [], [line for line in captured_logs.lines if any(v[-12:] in line for _, v in leaked)][:5]


async def test_every_request_line_names_its_request_user_and_tenant(
    base_url: str, tenant: TenantKit, captured_logs: LogCapture
) -> None:
    async with httpx.AsyncClient(base_url=base_url) as http:
        headers = await _sign_in(http, tenant, "staff", Secrets())
        me = await http.get("/api/v1/auth/me", headers=headers)
        assert me.status_code == 200
    lines = [json.loads(line) for line in captured_logs.lines]
    (access,) = [line for line in lines if line["logger"] == "fieldhub.access" and "/api/v1/auth/me" in line["msg"]]
    assert access["request_id"] == me.headers["x-request-id"]
    assert (access["user_id"], access["tenant_id"]) == (str(tenant.users["staff"]), str(tenant.id))
