"""Who hears about what happens at a workplace: its current supervisors (incidents, maintenance, lateness)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select

from persistence.models import WorkplaceAssignment

if TYPE_CHECKING:
    from uuid import UUID

    from sqlalchemy.ext.asyncio import AsyncSession


async def workplace_supervisors(session: AsyncSession, workplace_id: UUID) -> list[UUID]:
    """The users currently assigned to ``workplace_id`` as supervisors, by id."""
    rows = await session.scalars(
        select(WorkplaceAssignment.user_id)
        .where(
            WorkplaceAssignment.workplace_id == workplace_id,
            WorkplaceAssignment.role == "supervisor",
            WorkplaceAssignment.ended_at.is_(None),
        )
        .order_by(WorkplaceAssignment.user_id)
    )
    return list(rows.all())
