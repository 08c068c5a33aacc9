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


_CACHE_KEY = "fieldhub.work_policy"


async def work_policy(session: AsyncSession) -> WorkPolicy:
    """The policy of the session's tenant; an unsaved one with :data:`DEFAULTS` when it has none.

    Read once per transaction: a clock-out, its overtime and a leave request each ask for it, and it only
    changes through :func:`save_policy`, which keeps the transaction's copy current.
    """
    cached = session.info.get(_CACHE_KEY)
    if cached is not None and cached[0] is session.sync_session.get_transaction():
        policy: WorkPolicy = cached[1]
        return policy
    saved: WorkPolicy | None = await session.scalar(select(WorkPolicy))
    return remember_policy(session, saved)


def remember_policy(session: AsyncSession, saved: WorkPolicy | None) -> WorkPolicy:
    """Keep ``saved`` (the defaults when ``None``) as the policy :func:`work_policy` answers for the rest of
    the transaction, for a caller that read the policy row along with something else."""
    policy = saved or WorkPolicy(**DEFAULTS)
    session.info[_CACHE_KEY] = (session.sync_session.get_transaction(), policy)
    return policy


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
    remember_policy(session, saved)
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
