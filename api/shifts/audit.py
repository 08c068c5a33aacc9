"""One audit entry for a change to a shift, naming its person and workplace, whichever path made it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from api.audit import record

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from api.audit import Origin
    from api.auth.principal import CurrentUser
    from persistence.models import Shift


def audit_shift(
    session: AsyncSession, actor: CurrentUser, origin: Origin, action: str, shift: Shift, details: dict[str, Any]
) -> None:
    record(
        session,
        tenant_id=actor.tenant_id,
        action=action,
        actor_user_id=actor.id,
        origin=origin,
        target_type="shift",
        target_id=shift.id,
        details={"user_id": str(shift.user_id), "workplace_id": str(shift.workplace_id), **details},
    )
