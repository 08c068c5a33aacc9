"""Tenancy: which tenant a transaction runs as, set per transaction so row-level security can fence it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession

if TYPE_CHECKING:
    from uuid import UUID

    from sqlalchemy.engine import Connection
    from sqlalchemy.orm import Session, SessionTransaction

TENANT_SETTING = "fieldhub.tenant_id"
APP_ROLE = "fieldhub_app"
_INFO_KEY = "tenant_id"


def bind_tenant(session: AsyncSession, tenant_id: UUID | None) -> None:
    """Make every transaction this session begins run as ``tenant_id``.

    The setting is transaction-local (``set_config(..., true)``), so a pooled connection never
    carries one request's tenant into the next. A transaction already open is switched as well.
    """
    session.info[_INFO_KEY] = str(tenant_id) if tenant_id else ""


_SET_TENANT = f"SELECT set_config('{TENANT_SETTING}', $1, true)"


@event.listens_for(AsyncSession.sync_session_class, "after_begin")
def _apply_tenant(session: Session, transaction: SessionTransaction, connection: Connection) -> None:
    tenant: Any = session.info.get(_INFO_KEY)
    if tenant is not None:
        # Driver-level SQL: this runs in every transaction of the app, and compiling a text() construct
        # (cache key, compiled-cache lookup) cost more CPU than the round trip itself.
        connection.exec_driver_sql(_SET_TENANT, (tenant,))


async def set_transaction_tenant(session: AsyncSession, tenant_id: UUID) -> None:
    """Switch the current transaction (and later ones) of ``session`` to ``tenant_id``."""
    bind_tenant(session, tenant_id)
    await session.flush()  # what is pending goes in as the tenant it was added under
    await (await session.connection()).exec_driver_sql(_SET_TENANT, (str(tenant_id),))
