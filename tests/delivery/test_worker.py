"""The delivery worker sends queued email through a real SMTP server."""

from __future__ import annotations

import msgspec
import pytest

from api.runtime import Runtime
from delivery.email import EMAIL_JOB, EmailJob
from persistence.jobs import enqueue
from tests.kit import TenantKit
from tests.mailbox import Inbox

pytestmark = pytest.mark.usefixtures("worker")


async def test_an_enqueued_email_arrives_once_committed(runtime: Runtime, tenant: TenantKit, inbox: Inbox) -> None:
    to = f"worker-check@{tenant.slug}.example"
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        payload = msgspec.to_builtins(EmailJob(to=to, subject="Shift tomorrow", body="Store 12 opens at 7:00."))
        await enqueue(session, tenant_id=tenant.id, kind=EMAIL_JOB, payload=payload)
    message = await inbox.wait_for(to)
    assert message["Subject"] == "Shift tomorrow"
    assert "Store 12 opens at 7:00." in message.get_payload(decode=True).decode()  # type: ignore[union-attr]
