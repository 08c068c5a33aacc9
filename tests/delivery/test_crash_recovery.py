"""A worker killed (SIGKILL) after a push service or mail server accepted a send, before it was recorded:
the send goes again once, as the same message (same ``Topic``, same ``Message-ID``)."""

from __future__ import annotations

import os
import signal

from api.runtime import Runtime
from bench.push_service import FakeBrowser, running_push_service
from tests.delivery.arrange import expire_leases, send, status_is, subscribe
from tests.delivery.conftest import ProcessFactory, WorkerFactory
from tests.delivery.smtp_scripts import scripted_smtp
from tests.kit import TenantKit, eventually


async def test_a_push_accepted_just_before_its_worker_was_killed_goes_again_once_with_the_same_topic(
    runtime: Runtime, tenant: TenantKit, worker_process: ProcessFactory, notification_worker: WorkerFactory
) -> None:
    async with running_push_service(FakeBrowser()) as service:
        await subscribe(runtime, tenant, service, service.endpoint("phone"))
        with scripted_smtp([]) as (_, port):
            async with worker_process(smtp_port=port) as process:
                # The push service has the push; its worker dies before it hears the 201.
                service.on_received = lambda _: os.kill(process.pid, signal.SIGKILL)
                notification_id = await send(runtime, tenant.id, tenant.users["staff"])
                assert await process.wait() == -signal.SIGKILL
            service.on_received = None
            await expire_leases(runtime.settings.database_url or "", tenant.id)
            async with notification_worker(smtp_port=port):
                row = await eventually(status_is(runtime, tenant.id, notification_id, "push", "sent"))
    assert [push["topic"] for push in service.received] == [notification_id.hex] * 2
    assert [entry["status"] for entry in row.log if "subscription" in entry] == ["sent"]


async def test_a_mail_accepted_just_before_its_worker_was_killed_goes_again_once_with_the_same_message_id(
    runtime: Runtime, tenant: TenantKit, worker_process: ProcessFactory, notification_worker: WorkerFactory
) -> None:
    with scripted_smtp([]) as (mailbox, port):
        async with worker_process(smtp_port=port) as process:
            # The mail server has the message; its worker dies before it hears the 250.
            mailbox.on_message = lambda _: os.kill(process.pid, signal.SIGKILL)
            notification_id = await send(runtime, tenant.id, tenant.users["staff"])
            assert await process.wait() == -signal.SIGKILL
        mailbox.on_message = None
        await expire_leases(runtime.settings.database_url or "", tenant.id)
        async with notification_worker(smtp_port=port):
            await eventually(status_is(runtime, tenant.id, notification_id, "email", "sent"))
    first, again = mailbox.messages
    assert first["Message-ID"] == again["Message-ID"]
    assert first["Subject"] == again["Subject"]
