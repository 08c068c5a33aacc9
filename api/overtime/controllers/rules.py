"""The tenant's overtime rules: daily and weekly thresholds, rest days and whether work on them is overtime."""

from __future__ import annotations

from litestar import Controller, get, put
from litestar.params import JSONBody

from api.attendance.policy import save_policy, work_policy
from api.auth.guards import requires
from api.auth.permissions import Permission
from api.deps import CallerDep, DbSession, OriginDep
from api.overtime.schemas import RULE_COLUMNS, OvertimeRules, OvertimeRulesUpdate, rules_response
from api.workplaces.base import changes


class OvertimeRulesController(Controller):
    path = "/api/v1/overtime/rules"
    tags = ["overtime"]

    @get("/", operation_id="GetOvertimeRules", guards=[requires(Permission.ATTENDANCE_READ)])
    async def get_rules(self, db_session: DbSession) -> OvertimeRules:
        """The tenant's overtime rules; without thresholds (the default) no overtime is computed."""
        return rules_response(await work_policy(db_session))

    @put("/", operation_id="SetOvertimeRules", guards=[requires(Permission.ATTENDANCE_ADMIN)])
    async def set_rules(
        self, data: JSONBody[OvertimeRulesUpdate], db_session: DbSession, current_user: CallerDep, origin: OriginDep
    ) -> OvertimeRules:
        """Change the rules sent (audited with the values before and after); they apply to work recorded from now
        on. A bad value is ``400 invalid_request``."""
        fields = {RULE_COLUMNS[name]: value for name, value in changes(data).items()}
        policy = await save_policy(db_session, fields, actor=current_user, origin=origin, action="overtime.rules")
        return rules_response(policy)
