"""A batch's transactions on one held connection: one checkout, each transaction its own, as its tenant."""

from __future__ import annotations

import pytest
from sqlalchemy import event, text

from api.runtime import Runtime
from delivery.batch_connection import batch_connection
from tests.kit import TenantKit


async def test_transactions_of_a_batch_check_one_connection_out_of_the_pool(
    runtime: Runtime, tenant: TenantKit
) -> None:
    checkouts: list[object] = []

    def checked_out(*args: object) -> None:
        checkouts.append(args[0])

    event.listen(runtime.db.engine.sync_engine.pool, "checkout", checked_out)
    try:
        async with batch_connection(runtime.db) as held:
            for _ in range(3):
                async with held.transaction(tenant_id=tenant.id) as session:
                    await session.execute(text("SELECT 1"))
    finally:
        event.remove(runtime.db.engine.sync_engine.pool, "checkout", checked_out)
    assert len(checkouts) == 1


async def test_each_transaction_of_a_batch_runs_as_its_tenant(runtime: Runtime, tenant: TenantKit) -> None:
    async with batch_connection(runtime.db) as held:
        async with held.transaction(tenant_id=tenant.id) as session:
            inside = await session.scalar(text("SELECT current_setting('fieldhub.tenant_id', true)"))
        async with held.transaction(tenant_id=None) as session:
            afterwards = await session.scalar(text("SELECT current_setting('fieldhub.tenant_id', true)"))
    assert (inside, afterwards) == (str(tenant.id), "")


async def test_a_failed_transaction_of_a_batch_rolls_back_and_the_next_one_commits(
    runtime: Runtime, tenant: TenantKit
) -> None:
    rename = text("UPDATE app_user SET name = :name WHERE id = :id")
    async with batch_connection(runtime.db) as held:

        async def failing() -> None:
            async with held.transaction(tenant_id=tenant.id) as session:
                await session.execute(rename, {"name": "Rolled back", "id": tenant.users["staff"]})
                raise RuntimeError("the send failed")

        with pytest.raises(RuntimeError):
            await failing()
        async with held.transaction(tenant_id=tenant.id) as session:
            await session.execute(rename, {"name": "Committed", "id": tenant.users["staff"]})
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        name = await session.scalar(text("SELECT name FROM app_user WHERE id = :id"), {"id": tenant.users["staff"]})
    assert name == "Committed"
