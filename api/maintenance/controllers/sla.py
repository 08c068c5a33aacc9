"""The tenant's maintenance SLA: hours from request to due time, per priority."""

from __future__ import annotations

from litestar import Controller, get, put
from litestar.params import JSONBody

from api.audit import record
from api.auth.guards import requires
from api.auth.permissions import Permission
from api.deps import CallerDep, DbSession, OriginDep
from api.maintenance.schemas import SlaHours, SlaResponse, sla_response
from api.maintenance.sla import set_sla_policy, sla_policy


class SlaController(Controller):
    path = "/api/v1/maintenance/sla"
    tags = ["maintenance"]

    @get("/", operation_id="GetMaintenanceSla", guards=[requires(Permission.MAINTENANCE_READ)])
    async def get_sla(self, db_session: DbSession) -> SlaResponse:
        """Hours per priority in force (the defaults, urgent 4, high 24, normal 72, low 168, until set)."""
        row, hours = await sla_policy(db_session)
        return sla_response(row, hours)

    @put("/", operation_id="SetMaintenanceSla", guards=[requires(Permission.MAINTENANCE_WRITE)])
    async def set_sla(
        self, data: JSONBody[SlaHours], db_session: DbSession, current_user: CallerDep, origin: OriginDep
    ) -> SlaResponse:
        """Set the hours per priority (1 to 8760 each; ``400 invalid_request`` otherwise); requests raised from
        now on are due by them, existing ones keep their due time."""
        row, hours = await set_sla_policy(
            db_session, tenant_id=current_user.tenant_id, hours=data, actor_id=current_user.id
        )
        record(
            db_session,
            tenant_id=current_user.tenant_id,
            action="maintenance.sla",
            actor_user_id=current_user.id,
            origin=origin,
            target_type="maintenance_sla",
            target_id=row.id,
            details=hours,
        )
        return sla_response(row, hours)
