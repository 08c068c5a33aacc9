"""Who a notification reaches when it names users by id (one read) and when it names groups too."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from sqlalchemy import update

from delivery.errors import NotifyError
from delivery.recipients import Recipients, resolve_recipients
from persistence.models import User

if TYPE_CHECKING:
    from api.runtime import Runtime
    from tests.kit import TenantKit


async def test_named_users_reach_the_active_ones_in_id_order_less_the_excluded(
    runtime: Runtime, tenant: TenantKit
) -> None:
    staff, supervisor, admin = (tenant.users[role] for role in ("staff", "supervisor", "admin"))
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        await session.execute(update(User).where(User.id == supervisor).values(status="disabled"))
        people = await resolve_recipients(session, Recipients(users=[admin, supervisor, staff, admin], exclude=[admin]))
    assert [person.id for person in people] == [staff]


async def test_a_named_user_of_another_tenant_is_unknown(
    runtime: Runtime, tenant: TenantKit, other_tenant: TenantKit
) -> None:
    stranger = other_tenant.users["staff"]
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        with pytest.raises(NotifyError) as raised:
            await resolve_recipients(session, Recipients(users=[tenant.users["staff"], stranger]))
    assert (raised.value.code, raised.value.details) == ("unknown_recipients", {"users": [str(stranger)]})


async def test_named_users_and_a_role_reach_both(runtime: Runtime, tenant: TenantKit) -> None:
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        people = await resolve_recipients(session, Recipients(users=[tenant.users["staff"]], roles=["admin"]))
    assert {person.id for person in people} == {tenant.users["staff"], tenant.users["admin"]}
