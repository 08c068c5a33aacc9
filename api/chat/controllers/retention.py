"""The tenant's chat retention periods: read them, and set them (administrators)."""

from __future__ import annotations

from litestar import Controller, get, put
from litestar.params import JSONBody

from api.audit import record
from api.auth.guards import requires
from api.auth.permissions import Permission
from api.chat.schemas_files import RetentionResponse, RetentionUpdate
from api.deps import CallerDep, DbSession, OriginDep
from channels.retention import get_policy, set_policy


class RetentionController(Controller):
    path = "/api/v1/tenants/current/retention"
    tags = ["tenants"]

    @get("/", operation_id="GetChatRetention", guards=[requires(Permission.TENANT_READ)])
    async def get_retention(self, db_session: DbSession) -> RetentionResponse:
        """How long messages and shared files are kept, in days (null: forever)."""
        return RetentionResponse.of(await get_policy(db_session))

    @put("/", operation_id="SetChatRetention", guards=[requires(Permission.TENANT_WRITE)])
    async def set_retention(
        self, data: JSONBody[RetentionUpdate], db_session: DbSession, current_user: CallerDep, origin: OriginDep
    ) -> RetentionResponse:
        """Replace both periods; the worker's next sweep (hourly) deletes what is older, and audits it."""
        before = await get_policy(db_session)
        periods = await set_policy(
            db_session, tenant_id=current_user.tenant_id, periods=data.periods(), actor_id=current_user.id
        )
        record(
            db_session,
            tenant_id=current_user.tenant_id,
            action="chat.retention.updated",
            actor_user_id=current_user.id,
            origin=origin,
            target_type="tenant",
            target_id=current_user.tenant_id,
            details={
                "before": {"message_days": before.message_days, "file_days": before.file_days},
                "after": {"message_days": periods.message_days, "file_days": periods.file_days},
            },
        )
        return RetentionResponse.of(periods)
