"""The workflows every new tenant starts with, one per built-in request kind (admins change them later).

Migration ``0008p`` gives tenants that existed before it the same ones.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import msgspec
from sqlalchemy.dialects.postgresql import insert
from uuid_utils.compat import uuid7

from api.approvals.schemas import Step
from persistence.models import ApprovalWorkflow

if TYPE_CHECKING:
    from uuid import UUID

    from sqlalchemy.ext.asyncio import AsyncSession

EXPIRES_AFTER_SECONDS = 14 * 86400
_MANAGER = Step(name="Manager", rule="manager", quorum="any", timeout_seconds=86400)
_HEAD = Step(name="Department head", rule="department_head", quorum="any", timeout_seconds=2 * 86400)
DEFAULT_WORKFLOWS: dict[str, tuple[str, list[Step]]] = {
    "leave": ("Leave", [_MANAGER]),
    "overtime": ("Overtime", [_MANAGER]),
    "attendance_correction": ("Attendance correction", [_MANAGER]),
    "maintenance_cost": ("Maintenance over a cost", [_MANAGER, _HEAD]),
}


async def seed_default_workflows(session: AsyncSession, tenant_id: UUID) -> None:
    """Give the tenant each default workflow whose kind it has none for (safe to repeat)."""
    rows = [
        {
            "id": uuid7(),
            "tenant_id": tenant_id,
            "kind": kind,
            "name": name,
            "steps": msgspec.to_builtins(steps),
            "expires_after_seconds": EXPIRES_AFTER_SECONDS,
            "active": True,
        }
        for kind, (name, steps) in DEFAULT_WORKFLOWS.items()
    ]
    await session.execute(insert(ApprovalWorkflow).values(rows).on_conflict_do_nothing())
