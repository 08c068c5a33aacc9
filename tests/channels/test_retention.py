"""Retention: old messages, events and files deleted with an audit record; expired uploads; the worker's schedule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID

import pytest
from sqlalchemy import select, update

from api.runtime import Runtime
from channels.jobs import SWEEP_JOB, chat_job_handlers
from channels.retention import RetentionPeriods, set_policy, sweep_tenant
from channels.storage import LocalFileStorage
from delivery.worker import Worker
from persistence.jobs import ClaimedJob
from persistence.models import Attachment, AuditEvent, ConversationEvent, Message, Task
from persistence.schedule import Periodic, schedule_due
from tests.channels.chat import channel, say
from tests.channels.files import attachment_row, png, stored_files, upload
from tests.kit import TenantKit

LONG_AGO = datetime.now(UTC) - timedelta(days=40)
HOURLY_SWEEP = Periodic(kind=SWEEP_JOB, interval=timedelta(hours=1))


@pytest.fixture
def storage(tmp_path: Path) -> LocalFileStorage:
    return LocalFileStorage(root=tmp_path / "files")


async def keep_for(runtime: Runtime, tenant: TenantKit, *, message_days: int | None, file_days: int | None) -> None:
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        periods = RetentionPeriods(message_days=message_days, file_days=file_days)
        await set_policy(session, tenant_id=tenant.id, periods=periods, actor_id=None)


async def backdate_message(runtime: Runtime, tenant: TenantKit, message_id: UUID, when: datetime = LONG_AGO) -> None:
    """Pretend a message (its events and files too) was sent at ``when``."""
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        await session.execute(update(Message).where(Message.id == message_id).values(created_at=when))
        await session.execute(
            update(ConversationEvent).where(ConversationEvent.message_id == message_id).values(created_at=when)
        )
        await session.execute(update(Attachment).where(Attachment.message_id == message_id).values(created_at=when))


async def backdate_upload(runtime: Runtime, tenant: TenantKit, attachment_id: UUID, when: datetime) -> None:
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        await session.execute(update(Attachment).where(Attachment.id == attachment_id).values(created_at=when))


async def message_ids(runtime: Runtime, tenant: TenantKit) -> set[UUID]:
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        return set(await session.scalars(select(Message.id)))


async def test_old_messages_and_their_files_are_deleted_and_new_ones_kept(
    runtime: Runtime, tenant: TenantKit, storage: LocalFileStorage
) -> None:
    conversation_id = await channel(runtime, tenant, members=("staff",))
    photo = await upload(runtime, storage, tenant, "staff", png(2, 2), "old.png")
    old = await say(runtime, tenant, "staff", conversation_id, "old news", attachment_ids=[photo.id])
    new = await say(runtime, tenant, "staff", conversation_id, "fresh")
    await backdate_message(runtime, tenant, old.id)
    await keep_for(runtime, tenant, message_days=30, file_days=None)

    report = await sweep_tenant(db=runtime.db, storage=storage, tenant_id=tenant.id)

    assert await message_ids(runtime, tenant) == {new.id}
    assert await attachment_row(runtime, tenant.id, photo.id) is None
    assert stored_files(storage) == []
    assert (report.messages_deleted, report.files_deleted) == (1, 1)


async def test_a_sweep_that_removes_something_is_audited_with_counts(
    runtime: Runtime, tenant: TenantKit, storage: LocalFileStorage
) -> None:
    conversation_id = await channel(runtime, tenant, members=("staff",))
    old = await say(runtime, tenant, "staff", conversation_id, "old news")
    await backdate_message(runtime, tenant, old.id)
    await keep_for(runtime, tenant, message_days=30, file_days=None)

    await sweep_tenant(db=runtime.db, storage=storage, tenant_id=tenant.id)

    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        audit = (await session.scalars(select(AuditEvent).where(AuditEvent.action == "chat.retention.swept"))).one()
    assert audit.details["messages_deleted"] == 1
    assert audit.details["events_deleted"] == 1
    assert audit.details["message_days"] == 30


async def test_without_a_policy_nothing_is_deleted_or_audited(
    runtime: Runtime, tenant: TenantKit, storage: LocalFileStorage
) -> None:
    conversation_id = await channel(runtime, tenant, members=("staff",))
    old = await say(runtime, tenant, "staff", conversation_id, "old news")
    await backdate_message(runtime, tenant, old.id)

    report = await sweep_tenant(db=runtime.db, storage=storage, tenant_id=tenant.id)

    assert not report.removed_anything
    assert await message_ids(runtime, tenant) == {old.id}
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        assert await session.scalar(select(AuditEvent).where(AuditEvent.action == "chat.retention.swept")) is None


async def test_an_old_thread_root_with_recent_replies_becomes_a_tombstone(
    runtime: Runtime, tenant: TenantKit, storage: LocalFileStorage
) -> None:
    conversation_id = await channel(runtime, tenant, members=("staff",))
    root = await say(runtime, tenant, "staff", conversation_id, "question from last month")
    reply = await say(runtime, tenant, "admin", conversation_id, "answer today", thread_root_id=root.id)
    await backdate_message(runtime, tenant, root.id)
    await keep_for(runtime, tenant, message_days=30, file_days=None)

    report = await sweep_tenant(db=runtime.db, storage=storage, tenant_id=tenant.id)

    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        kept_root = await session.get(Message, root.id)
        assert kept_root is not None
        assert (kept_root.body, kept_root.deleted_at is not None) == ("", True)
        assert await session.get(Message, reply.id) is not None
    assert (report.messages_tombstoned, report.messages_deleted) == (1, 0)


async def test_the_event_log_keeps_a_gap_free_suffix(
    runtime: Runtime, tenant: TenantKit, storage: LocalFileStorage
) -> None:
    conversation_id = await channel(runtime, tenant, members=("staff",))
    first = await say(runtime, tenant, "staff", conversation_id, "one")
    second = await say(runtime, tenant, "staff", conversation_id, "two")
    await say(runtime, tenant, "staff", conversation_id, "three")
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        # Everything up to the second message happened long ago (channel creation and joins too).
        await session.execute(
            update(ConversationEvent)
            .where(ConversationEvent.conversation_id == conversation_id, ConversationEvent.seq <= second.seq)
            .values(created_at=LONG_AGO)
        )
    for message_id in (first.id, second.id):
        await backdate_message(runtime, tenant, message_id)
    await keep_for(runtime, tenant, message_days=30, file_days=None)

    await sweep_tenant(db=runtime.db, storage=storage, tenant_id=tenant.id)

    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        seqs = list(
            await session.scalars(
                select(ConversationEvent.seq)
                .where(ConversationEvent.conversation_id == conversation_id)
                .order_by(ConversationEvent.seq)
            )
        )
    assert seqs == list(range(second.seq + 1, seqs[-1] + 1))
    assert seqs


async def test_file_retention_deletes_old_files_but_keeps_their_message(
    runtime: Runtime, tenant: TenantKit, storage: LocalFileStorage
) -> None:
    conversation_id = await channel(runtime, tenant, members=("staff",))
    photo = await upload(runtime, storage, tenant, "staff", png(2, 2), "shelf.png")
    message = await say(runtime, tenant, "staff", conversation_id, "shelf", attachment_ids=[photo.id])
    await backdate_upload(runtime, tenant, photo.id, LONG_AGO)
    await keep_for(runtime, tenant, message_days=None, file_days=30)

    await sweep_tenant(db=runtime.db, storage=storage, tenant_id=tenant.id)

    assert await attachment_row(runtime, tenant.id, photo.id) is None
    assert stored_files(storage) == []
    assert await message_ids(runtime, tenant) == {message.id}


async def test_uploads_never_shared_expire_after_a_day(
    runtime: Runtime, tenant: TenantKit, storage: LocalFileStorage
) -> None:
    stale = await upload(runtime, storage, tenant, "staff", png(1, 1), "stale.png")
    recent = await upload(runtime, storage, tenant, "staff", png(1, 1), "recent.png")
    await backdate_upload(runtime, tenant, stale.id, datetime.now(UTC) - timedelta(hours=25))

    report = await sweep_tenant(db=runtime.db, storage=storage, tenant_id=tenant.id)

    assert report.uploads_expired == 1
    assert await attachment_row(runtime, tenant.id, stale.id) is None
    assert await attachment_row(runtime, tenant.id, recent.id) is not None
    assert stored_files(storage) == [recent.storage_key]


async def test_shared_files_are_not_expired_as_unshared_uploads(
    runtime: Runtime, tenant: TenantKit, storage: LocalFileStorage
) -> None:
    conversation_id = await channel(runtime, tenant, members=("staff",))
    photo = await upload(runtime, storage, tenant, "staff", png(1, 1), "shelf.png")
    await say(runtime, tenant, "staff", conversation_id, "shelf", attachment_ids=[photo.id])
    await backdate_upload(runtime, tenant, photo.id, datetime.now(UTC) - timedelta(days=3))

    await sweep_tenant(db=runtime.db, storage=storage, tenant_id=tenant.id)

    assert await attachment_row(runtime, tenant.id, photo.id) is not None


async def test_a_tasks_proof_photo_is_not_expired_as_an_unshared_upload(
    runtime: Runtime, tenant: TenantKit, storage: LocalFileStorage
) -> None:
    photo = await upload(runtime, storage, tenant, "staff", png(1, 1), "proof.png")
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        session.add(Task(tenant_id=tenant.id, title="Photograph the endcap", photo_attachment_id=photo.id))
    await backdate_upload(runtime, tenant, photo.id, datetime.now(UTC) - timedelta(days=3))

    report = await sweep_tenant(db=runtime.db, storage=storage, tenant_id=tenant.id)

    assert report.uploads_expired == 0
    assert await attachment_row(runtime, tenant.id, photo.id) is not None


async def test_the_worker_runs_a_scheduled_sweep(
    runtime: Runtime, tenant: TenantKit, storage: LocalFileStorage
) -> None:
    stale = await upload(runtime, storage, tenant, "staff", png(1, 1), "stale.png")
    await backdate_upload(runtime, tenant, stale.id, datetime.now(UTC) - timedelta(days=2))
    await schedule_due(runtime.db, [HOURLY_SWEEP])
    worker = Worker(db=runtime.db, handlers=chat_job_handlers(db=runtime.db, storage=storage), batch=1000)
    while await worker.run_once():
        pass
    assert await attachment_row(runtime, tenant.id, stale.id) is None
    assert stored_files(storage) == []


async def test_file_deletion_jobs_touch_only_their_own_tenants_files(
    runtime: Runtime, tenant: TenantKit, other_tenant: TenantKit, storage: LocalFileStorage
) -> None:
    theirs = await upload(runtime, storage, other_tenant, "staff", png(1, 1), "theirs.png")
    handler = chat_job_handlers(db=runtime.db, storage=storage)["chat.delete_files"]
    forged = ClaimedJob(
        id=theirs.id,
        tenant_id=tenant.id,
        kind="chat.delete_files",
        payload={"keys": [theirs.storage_key]},
        attempts=1,
        max_attempts=8,
    )
    await handler(forged)
    assert stored_files(storage) == [theirs.storage_key]
