"""OpenTelemetry traces exported over OTLP/HTTP: an HTTP request and the worker job it caused share one
trace, a WebSocket frame has its span, URL tokens are masked, and with no endpoint nothing is set up."""

from __future__ import annotations

import json
import secrets

import httpx
import msgspec
import pytest
import websockets

from api.app import create_app
from api.runtime import Runtime
from api.settings import Settings
from api.tracing import otlp_traces_url, tracing_for
from persistence.jobs import TRACE_CONTEXT_KEY, JobQueue, enqueue, set_trace_context_source
from tests.api.observability.conftest import OtlpReceiver
from tests.delivery.workers import running_worker
from tests.kit import PASSWORD, TenantKit
from tests.mailbox import Inbox
from tests.nodes import frame_where, next_frame
from tests.serving import served

TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


def traced(settings: Settings, receiver: OtlpReceiver) -> Settings:
    return msgspec.structs.replace(settings, otlp_endpoint=receiver.url)


async def _bearer(http: httpx.AsyncClient, tenant: TenantKit, role: str) -> dict[str, str]:
    response = await http.post(
        "/api/v1/auth/login", json={"email": tenant.email(role), "password": PASSWORD, "tenant": tenant.slug}
    )
    assert response.status_code == 200, response.text
    http.cookies.clear()
    return {"Authorization": f"Bearer {response.json()['token']}"}


async def test_the_worker_job_of_a_request_continues_the_requests_trace(
    settings: Settings,
    runtime: Runtime,
    tenant: TenantKit,
    smtp_server: tuple[Inbox, int],
    otlp_receiver: OtlpReceiver,
) -> None:
    worker_tracing = tracing_for(traced(settings, otlp_receiver), "worker")
    assert worker_tracing is not None
    async with (
        served(create_app(traced(settings, otlp_receiver))) as base_url,
        httpx.AsyncClient(base_url=base_url) as http,
        running_worker(runtime, tenant, smtp_port=smtp_server[1], job_scope=worker_tracing.job_scope),
    ):
        sent = await http.post(
            "/api/v1/notifications",
            json={
                "recipients": {"users": [str(tenant.users["staff"])]},
                "category": "safety",
                "priority": "critical",
                "title": "Spill in aisle 2",
                "idempotency_key": secrets.token_hex(8),
            },
            headers=await _bearer(http, tenant, "admin"),
        )
        assert sent.status_code == 201, sent.text
        await smtp_server[0].wait_for(tenant.email("staff"), timeout=20)
    await worker_tracing.shutdown()  # the app's tracing flushed when it stopped; this flushes the worker's
    (request,) = otlp_receiver.named("POST /api/v1/notifications")
    (job,) = [span for span in otlp_receiver.named("job notification.email") if span.trace_id == request.trace_id]
    assert job.parent_span_id == request.span_id
    assert (request.resource["fieldhub.role"], job.resource["fieldhub.role"]) == ("serve", "worker")


async def test_a_websocket_chat_send_has_a_frame_span(
    settings: Settings, tenant: TenantKit, otlp_receiver: OtlpReceiver
) -> None:
    async with (
        served(create_app(traced(settings, otlp_receiver))) as base_url,
        httpx.AsyncClient(base_url=base_url) as http,
    ):
        headers = await _bearer(http, tenant, "admin")
        created = await http.post(
            "/api/v1/conversations",
            json={"name": f"traced {secrets.token_hex(4)}", "member_ids": [str(tenant.users["staff"])]},
            headers=headers,
        )
        assert created.status_code == 201, created.text
        ticket = (await http.post("/api/v1/auth/ws-ticket", headers=headers)).json()["ticket"]
        async with websockets.connect(f"{base_url.replace('http', 'ws')}/ws?ticket={ticket}", compression=None) as ws:
            await next_frame(ws, "hello")
            frame = {
                "type": "send",
                "ref": "s",
                "conversation_id": created.json()["id"],
                "client_id": "c",
                "body": "hi",
            }
            await ws.send(json.dumps(frame))
            assert (await frame_where(ws, lambda f: f.get("ref") == "s"))["type"] == "ack"
    (span,) = otlp_receiver.named("ws send")
    assert span.attributes["fieldhub.frame.type"] == "send"
    assert (span.attributes["enduser.id"], span.attributes["fieldhub.tenant_id"]) == (
        str(tenant.users["admin"]),
        str(tenant.id),
    )


async def test_a_claimed_job_hands_back_its_trace_context_and_a_clean_payload(
    runtime: Runtime, tenant: TenantKit
) -> None:
    set_trace_context_source(lambda: TRACEPARENT)
    try:
        async with runtime.db.transaction(tenant_id=tenant.id) as session:
            kind = f"test.traced.{secrets.token_hex(4)}"
            await enqueue(session, tenant_id=tenant.id, kind=kind, payload={"n": 1})
    finally:
        set_trace_context_source(None)
    (job,) = await JobQueue(db=runtime.db).claim([kind], 1)
    assert (job.payload, job.trace_context) == ({"n": 1}, TRACEPARENT)
    assert TRACE_CONTEXT_KEY not in job.payload


def test_with_no_endpoint_nothing_of_tracing_is_set_up(monkeypatch: pytest.MonkeyPatch, settings: Settings) -> None:
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_ENDPOINT", raising=False)
    assert (otlp_traces_url(settings), tracing_for(settings, "serve")) == (None, None)


async def test_a_token_in_a_request_url_is_masked_in_its_span(settings: Settings, otlp_receiver: OtlpReceiver) -> None:
    token = secrets.token_hex(12)
    async with (
        served(create_app(traced(settings, otlp_receiver))) as base_url,
        httpx.AsyncClient(base_url=base_url) as http,
    ):
        await http.get("/api/v1/notifications/unsubscribe", params={"token": token})
    (span,) = otlp_receiver.named("GET /api/v1/notifications/unsubscribe")
    assert "token=***" in str(span.attributes["http.url"])
    assert token not in repr(span.attributes)
