"""A tenant's own mail relay in the worker: its notification and plain mail leave through it (a real SMTP server
requiring AUTH), not the installation's; other tenants' mail still goes to the default; a changed relay is used
from the next batch, without a restart."""

from __future__ import annotations

import secrets
from uuid import UUID

import pytest
from sqlalchemy import select

from api.runtime import Runtime
from delivery.email import EmailSender, enqueue_email
from delivery.relays import RelayHostRefused, TenantRelays, password_purpose
from persistence.models import MailRelay
from tests.delivery.arrange import delivery, send
from tests.delivery.conftest import WorkerFactory
from tests.delivery.relay_server import relay_requiring_auth
from tests.delivery.workers import running_worker
from tests.kit import TenantKit, eventually
from tests.mailbox import running_smtp_server

USERNAME = "acme-mailer"


async def give_relay(runtime: Runtime, tenant: TenantKit, *, port: int, password: str) -> None:
    """Save (or replace) the tenant's relay on loopback ``port``, its password sealed as the API seals it."""
    sealed = runtime.settings.keyring().seal(password.encode(), purpose=password_purpose(tenant.id))
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        relay = await session.scalar(select(MailRelay)) or MailRelay(tenant_id=tenant.id)
        relay.host, relay.port, relay.security = "127.0.0.1", port, "none"
        relay.username, relay.password_sealed = USERNAME, sealed
        relay.from_address, relay.from_name = "ops@acme.example", "Acme Ops"
        session.add(relay)


async def mailed(runtime: Runtime, tenant: TenantKit, notification_id: UUID) -> None:
    async def check() -> bool:
        return (await delivery(runtime, tenant.id, notification_id, "email")).status == "sent"

    await eventually(check)


async def test_a_tenants_notification_mail_leaves_through_its_own_relay_not_the_default(
    runtime: Runtime, tenant: TenantKit, notification_worker: WorkerFactory
) -> None:
    password = f"pw-{secrets.token_hex(8)}"
    with running_smtp_server() as (default, default_port), relay_requiring_auth(USERNAME, password) as (ours, _, port):
        await give_relay(runtime, tenant, port=port, password=password)
        async with notification_worker(smtp_port=default_port):
            notification_id = await send(runtime, tenant.id, tenant.users["staff"])
            await mailed(runtime, tenant, notification_id)
        message = await ours.wait_for(tenant.email("staff"))
    assert message["From"] == "Acme Ops <ops@acme.example>"
    assert message["Message-ID"].endswith("@acme.example>")
    assert default.messages == []


async def test_another_tenants_mail_still_goes_to_the_default_relay(
    runtime: Runtime, tenant: TenantKit, other_tenant: TenantKit, notification_worker: WorkerFactory
) -> None:
    password = f"pw-{secrets.token_hex(8)}"
    with running_smtp_server() as (default, default_port), relay_requiring_auth(USERNAME, password) as (ours, _, port):
        await give_relay(runtime, tenant, port=port, password=password)
        async with notification_worker(smtp_port=default_port):
            theirs = await send(runtime, other_tenant.id, other_tenant.users["staff"])
            mine = await send(runtime, tenant.id, tenant.users["staff"])
            await mailed(runtime, other_tenant, theirs)
            await mailed(runtime, tenant, mine)
    assert [m["To"] for m in default.messages] == [other_tenant.email("staff")]
    assert [m["To"] for m in ours.messages] == [tenant.email("staff")]


async def test_a_changed_relay_is_used_from_the_next_mail_without_a_restart(
    runtime: Runtime, tenant: TenantKit, notification_worker: WorkerFactory
) -> None:
    with (
        running_smtp_server() as (_, default_port),
        relay_requiring_auth(USERNAME, "first-pw") as (first, _, first_port),
        relay_requiring_auth(USERNAME, "second-pw") as (second, _, second_port),
    ):
        await give_relay(runtime, tenant, port=first_port, password="first-pw")
        async with notification_worker(smtp_port=default_port):
            before = await send(runtime, tenant.id, tenant.users["staff"], title="Before the change")
            await mailed(runtime, tenant, before)
            await give_relay(runtime, tenant, port=second_port, password="second-pw")
            after = await send(runtime, tenant.id, tenant.users["staff"], title="After the change")
            await mailed(runtime, tenant, after)
    assert [m["Subject"] for m in first.messages] == ["Before the change"]
    assert [m["Subject"] for m in second.messages] == ["After the change"]


async def test_a_tenants_plain_mail_leaves_through_its_own_relay(runtime: Runtime, tenant: TenantKit) -> None:
    password = f"pw-{secrets.token_hex(8)}"
    with running_smtp_server() as (default, default_port), relay_requiring_auth(USERNAME, password) as (ours, _, port):
        await give_relay(runtime, tenant, port=port, password=password)
        async with running_worker(runtime, tenant, smtp_port=default_port):
            async with runtime.db.transaction(tenant_id=tenant.id) as session:
                await enqueue_email(
                    session, tenant_id=tenant.id, to=tenant.email("staff"), subject="Your export is ready", body="."
                )
            message = await ours.wait_for(tenant.email("staff"))
    assert message["Subject"] == "Your export is ready"
    assert default.messages == []


async def test_a_worker_that_does_not_allow_private_hosts_keeps_the_mail_back_from_a_relay_on_loopback(
    runtime: Runtime, tenant: TenantKit
) -> None:
    await give_relay(runtime, tenant, port=2525, password="secret")
    relays = TenantRelays(
        keyring=runtime.settings.keyring(), default=EmailSender(smtp_url=None, sender="x@example.com")
    )
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        with pytest.raises(RelayHostRefused, match=r"127\.0\.0\.1 is at 127\.0\.0\.1"):
            await relays.sender_for(session, tenant.id)
