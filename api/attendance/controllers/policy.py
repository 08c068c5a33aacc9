"""The tenant's attendance policy: geofence refusal or flagging, lateness delays and rest days."""

from __future__ import annotations

from litestar import Controller, get, put
from litestar.params import JSONBody

from api.attendance.policy import save_policy, work_policy
from api.attendance.schemas import PolicyResponse, PolicyUpdate, policy_response
from api.auth.guards import requires
from api.auth.permissions import Permission
from api.deps import CallerDep, DbSession, OriginDep
from api.workplaces.base import changes


class PolicyController(Controller):
    path = "/api/v1/attendance/policy"
    tags = ["attendance"]

    @get("/", operation_id="GetAttendancePolicy", guards=[requires(Permission.ATTENDANCE_READ)])
    async def get_policy(self, db_session: DbSession) -> PolicyResponse:
        """The tenant's attendance policy (the defaults until one is saved)."""
        return policy_response(await work_policy(db_session))

    @put("/", operation_id="SetAttendancePolicy", guards=[requires(Permission.ATTENDANCE_ADMIN)])
    async def set_policy(
        self, data: JSONBody[PolicyUpdate], db_session: DbSession, current_user: CallerDep, origin: OriginDep
    ) -> PolicyResponse:
        """Change the fields sent (audited with the values before and after); a bad value is ``400 invalid_request``."""
        policy = await save_policy(
            db_session, changes(data), actor=current_user, origin=origin, action="attendance.policy"
        )
        return policy_response(policy)
