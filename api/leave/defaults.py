"""The leave types every new tenant starts with; the tenant's admins change them afterwards."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy.dialects.postgresql import insert
from uuid_utils.compat import uuid7

from persistence.models import LeaveType

if TYPE_CHECKING:
    from uuid import UUID

    from sqlalchemy.ext.asyncio import AsyncSession

DEFAULT_LEAVE_TYPES: tuple[dict[str, Any], ...] = (
    {"key": "annual", "name": "Annual leave", "yearly_days": 25.0, "accrual": "monthly", "allow_negative": False},
    {"key": "sick", "name": "Sick leave", "yearly_days": 10.0, "accrual": "yearly", "allow_negative": True},
    {"key": "unpaid", "name": "Unpaid leave", "yearly_days": 0.0, "accrual": "yearly", "allow_negative": True},
)


async def seed_leave_types(session: AsyncSession, tenant_id: UUID) -> None:
    """Give the tenant each default leave type it lacks (by key); safe to repeat."""
    rows = [{"id": uuid7(), "tenant_id": tenant_id, "active": True, **fields} for fields in DEFAULT_LEAVE_TYPES]
    await session.execute(insert(LeaveType).values(rows).on_conflict_do_nothing(index_elements=["tenant_id", "key"]))
