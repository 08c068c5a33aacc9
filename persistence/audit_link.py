"""Linking after commit: the process that committed audit entries links them to their tenant's chain right after.

A commit that inserted audit entries calls :func:`link_soon` for each tenant it wrote to. Each
(engine, tenant) has at most one linking task running in the process; it waits
:data:`GATHER_SECONDS` for the commits that follow to join its batch, then links everything pending
in one short transaction, and a commit that arrives while it links asks it to go round once more.
So one link transaction (about five round trips) serves many audited writes, instead of every
request taking the chain's lock. A task that fails (the
database gone, the process stopping) leaves its entries unlinked for ``fieldhub worker``'s sweep
(:func:`link_tenant` on a timer), which also picks up what a crashed process left behind.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Final

from sqlalchemy import text

from persistence.audit_chain import link_pending
from persistence.tenancy import TENANT_SETTING

if TYPE_CHECKING:
    from uuid import UUID

    from sqlalchemy.ext.asyncio import AsyncEngine

__all__ = ["GATHER_SECONDS", "link_soon", "link_tenant", "linking_done"]

log = logging.getLogger("fieldhub.audit")

GATHER_SECONDS: Final = 0.1
"""How long a linking task lets further commits gather before it links: an entry is linked this much
later, and a process writing N audited changes a second runs about N / 10 link transactions, not N."""


class _TenantLinking:
    """One tenant's linking task in this process, and whether more entries were committed since it read them."""

    def __init__(self) -> None:
        self.again = True
        self.task: asyncio.Task[None] | None = None


_linking: dict[tuple[int, UUID], _TenantLinking] = {}
"""Running tasks by (``id`` of the sync engine, tenant); an entry lives exactly as long as its task."""


async def link_tenant(engine: AsyncEngine, tenant_id: UUID) -> int:
    """Link ``tenant_id``'s committed unlinked entries in one transaction of their own, as the tenant.

    Returns:
        How many entries were linked (0 when there were none).
    """
    async with engine.begin() as connection:
        await connection.execute(
            text("SELECT set_config(:name, :value, true)"), {"name": TENANT_SETTING, "value": str(tenant_id)}
        )
        return await link_pending(connection, tenant_id)


def link_soon(engine: AsyncEngine, tenant_id: UUID) -> None:
    """Have ``tenant_id``'s committed entries linked by a task of this process (call after the commit).

    Returns at once; the entries are linked about :data:`GATHER_SECONDS` later, not guaranteed (see the module).
    Without a running event loop nothing is scheduled and the worker's sweep links them.
    """
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return
    key = (id(engine.sync_engine), tenant_id)
    linking = _linking.get(key)
    if linking is not None:
        linking.again = True
        return
    linking = _linking[key] = _TenantLinking()
    linking.task = loop.create_task(_link_until_idle(engine, tenant_id, key, linking))


async def _link_until_idle(
    engine: AsyncEngine, tenant_id: UUID, key: tuple[int, UUID], linking: _TenantLinking
) -> None:
    try:
        while linking.again:
            await asyncio.sleep(GATHER_SECONDS)
            linking.again = False
            await link_tenant(engine, tenant_id)
    except Exception:
        log.warning(
            "audit entries left unlinked for the worker's sweep", extra={"tenant_id": str(tenant_id)}, exc_info=True
        )
    finally:
        del _linking[key]


async def linking_done(engine: AsyncEngine | None = None) -> None:
    """Wait until this process's linking tasks (of ``engine``, or of every engine) have finished.

    For a graceful shutdown before the engine is disposed, and for tests that read ``seq``.
    """
    while True:
        tasks = [
            linking.task
            for (engine_id, _), linking in _linking.items()
            if linking.task is not None and (engine is None or engine_id == id(engine.sync_engine))
        ]
        if not tasks:
            return
        await asyncio.gather(*tasks, return_exceptions=True)
