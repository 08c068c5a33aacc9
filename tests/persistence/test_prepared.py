"""Prepared statements run on the session's own connection: as its tenant, inside its transaction, with
JSON parameters encoded and fixed values carried along."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from sqlalchemy import String, bindparam, func, literal, select, update
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import async_sessionmaker

from persistence.models import Department, User
from persistence.prepared import Prepared

if TYPE_CHECKING:
    from api.runtime import Runtime
    from tests.kit import TenantKit

_USERS = Prepared(select(func.count()).select_from(User))
_RENAME = Prepared(
    update(Department).where(Department.name == bindparam("old")).values(name=bindparam("new"), updated_at=func.now())
)
_NAMES = Prepared(select(Department.name).where(Department.name == bindparam("name")))


async def test_a_prepared_read_sees_only_the_sessions_tenant(
    runtime: Runtime, tenant: TenantKit, other_tenant: TenantKit
) -> None:
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        mine = await _USERS.scalar(session)
    async with runtime.db.transaction() as session:
        nobody = await _USERS.scalar(session)
    assert (mine, nobody) == (len(tenant.users), 0)


async def test_a_prepared_write_is_rolled_back_with_its_transaction(runtime: Runtime, tenant: TenantKit) -> None:
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        session.add(Department(tenant_id=tenant.id, name="Field"))
    seen_inside: list[str] = []

    async def rename_then_fail() -> None:
        async with runtime.db.transaction(tenant_id=tenant.id) as session:
            await _RENAME.fetch(session, old="Field", new="Renamed")
            seen_inside.extend(row["name"] for row in await _NAMES.fetch(session, name="Renamed"))
            raise RuntimeError("the handler failed")

    with pytest.raises(RuntimeError):
        await rename_then_fail()
    assert seen_inside == ["Renamed"]
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        assert await _NAMES.first(session, name="Renamed") is None
        assert await _NAMES.scalar(session, name="Field") == "Field"


async def test_json_parameters_are_encoded_and_fixed_values_ride_along(runtime: Runtime) -> None:
    statement = Prepared(
        select(func.jsonb_typeof(bindparam("document", type_=JSONB)), literal("fixed", String), bindparam("free"))
    )
    async with runtime.db.transaction() as session:
        row = await statement.first(session, document={"shelf": [1, 2]}, free="given")
        with pytest.raises(KeyError):
            await statement.first(session, document={})
    assert row is not None
    assert tuple(row) == ("object", "fixed", "given")


def test_a_statement_with_an_expanding_in_is_refused() -> None:
    with pytest.raises(ValueError, match="expanding IN"):
        Prepared(select(User.id).where(User.status.in_(["active", "disabled"])))


def test_a_statement_needing_a_python_side_column_default_is_refused() -> None:
    with pytest.raises(ValueError, match="updated_at"):
        Prepared(update(Department).where(Department.name == bindparam("old")).values(name=bindparam("new")))


async def test_a_session_with_no_statement_yet_runs_prepared_statements_in_one_transaction(runtime: Runtime) -> None:
    transaction_id = Prepared(select(func.txid_current()))
    async with async_sessionmaker(runtime.db.engine)() as session, session.begin():
        first = await transaction_id.scalar(session)
        second = await transaction_id.scalar(session)
    assert first == second


async def test_a_session_reused_after_commit_runs_prepared_statements_in_its_new_transaction(
    runtime: Runtime, tenant: TenantKit
) -> None:
    transaction_id = Prepared(select(func.txid_current()))
    async with runtime.db.session(tenant_id=tenant.id) as session:
        async with session.begin():
            first = await transaction_id.scalar(session)
        async with session.begin():
            second = await transaction_id.scalar(session)
            users = await _USERS.scalar(session)
    assert second != first
    assert users == len(tenant.users)


async def test_execute_many_runs_the_statement_once_per_row_in_the_sessions_transaction(
    runtime: Runtime, tenant: TenantKit
) -> None:
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        session.add_all([Department(tenant_id=tenant.id, name=name) for name in ("North", "South", "West")])
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        await _RENAME.execute_many(session, [{"old": "North", "new": "N"}, {"old": "South", "new": "S"}])
        renamed = [row["name"] for name in ("N", "S", "West") for row in await _NAMES.fetch(session, name=name)]
    assert renamed == ["N", "S", "West"]


async def test_a_driver_transaction_reads_and_writes_as_its_tenant_and_commits(
    runtime: Runtime, tenant: TenantKit, other_tenant: TenantKit
) -> None:
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        session.add(Department(tenant_id=tenant.id, name="Field"))
    async with runtime.db.driver_transaction(tenant_id=tenant.id) as transaction:
        mine = await _USERS.scalar(transaction)
        await _RENAME.fetch(transaction, old="Field", new="Stores")
    async with runtime.db.driver_transaction() as transaction:
        nobody = await _USERS.scalar(transaction)
    async with runtime.db.driver_transaction(tenant_id=other_tenant.id) as transaction:
        theirs = await _NAMES.first(transaction, name="Stores")
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        renamed = await _NAMES.scalar(session, name="Stores")
    assert (mine, nobody, theirs, renamed) == (len(tenant.users), 0, None, "Stores")


async def test_a_driver_transaction_that_raises_is_rolled_back_and_its_connection_reused(
    runtime: Runtime, tenant: TenantKit
) -> None:
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        session.add(Department(tenant_id=tenant.id, name="Depot"))

    async def rename_then_fail() -> None:
        async with runtime.db.driver_transaction(tenant_id=tenant.id) as transaction:
            await _RENAME.fetch(transaction, old="Depot", new="Gone")
            raise RuntimeError("the handler failed")

    pool = runtime.db.engine.pool
    with pytest.raises(RuntimeError):
        await rename_then_fail()
    checked_out = pool.checkedout()  # type: ignore[attr-defined]
    async with runtime.db.driver_transaction(tenant_id=tenant.id) as transaction:
        kept = await _NAMES.scalar(transaction, name="Depot")
    assert (kept, checked_out) == ("Depot", 0)
