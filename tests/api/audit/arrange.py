"""Writing audit entries straight through ``api.audit.record``, one committed transaction each."""

from __future__ import annotations

from typing import TYPE_CHECKING

from api.audit import Origin, record

if TYPE_CHECKING:
    from api.runtime import Runtime
    from tests.kit import TenantKit


async def write_entries(runtime: Runtime, kit: TenantKit, count: int, *, action: str = "test.entry") -> None:
    """``count`` entries by the tenant's admin, details ``{"number": n}``."""
    for number in range(count):
        async with runtime.db.transaction(tenant_id=kit.id) as session:
            record(
                session,
                tenant_id=kit.id,
                action=action,
                actor_user_id=kit.users["admin"],
                origin=Origin(ip="10.0.0.1", user_agent="pytest"),
                details={"number": number},
            )
