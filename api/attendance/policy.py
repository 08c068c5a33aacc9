"""The tenant's work policy: one row per tenant (the defaults until someone saves one), read by attendance,
lateness, overtime and leave, and written by the attendance policy and overtime rules endpoints."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

from api.audit import Origin, record
from persistence.models import WorkPolicy

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from api.auth.principal import CurrentUser

DEFAULTS: dict[str, Any] = {
    "geofence": "refuse",
    "late_after_minutes": 10,
    "escalate_after_minutes": 20,
    "rest_days": ["sat", "sun"],
    "overtime_daily_minutes": None,
    "overtime_weekly_minutes": None,
    "overtime_on_rest_days": False,
}
"""A tenant without a saved policy: geofence refused, late after 10 minutes, weekends off, no overtime rules."""


async def work_policy(session: AsyncSession) -> WorkPolicy:
    """The policy of the session's tenant; an unsaved one with :data:`DEFAULTS` when it has none."""
    saved: WorkPolicy | None = await session.scalar(select(WorkPolicy))
    return saved or WorkPolicy(**DEFAULTS)


async def save_policy(
    session: AsyncSession, fields: dict[str, Any], *, actor: CurrentUser, origin: Origin, action: str
) -> WorkPolicy:
    """Replace ``fields`` of the tenant's policy (creating it), audited with the values before and after."""
    # Two first saves at once: one inserts, the other waits on the row lock below.
    await session.execute(
        insert(WorkPolicy)
        .values(tenant_id=actor.tenant_id, **DEFAULTS)
        .on_conflict_do_nothing(index_elements=["tenant_id"])
    )
    saved = (
        await session.scalars(select(WorkPolicy).with_for_update().execution_options(populate_existing=True))
    ).one()
    before = {name: getattr(saved, name) for name in fields}
    for name, value in fields.items():
        setattr(saved, name, value)
    await session.flush()
    record(
        session,
        tenant_id=actor.tenant_id,
        action=action,
        actor_user_id=actor.id,
        origin=origin,
        target_type="work_policy",
        target_id=saved.id,
        details={"before": before, "after": fields},
    )
    return saved
