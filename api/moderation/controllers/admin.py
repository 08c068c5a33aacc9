"""Administering moderation: limit a moderator's scope, export the moderation audit trail as CSV."""

from __future__ import annotations

import csv
import io
import json
from typing import Annotated
from uuid import UUID

from litestar import Controller, Response, get, put
from litestar.params import JSONBody, PathParameter
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from uuid_utils.compat import uuid7

from api.auth.guards import requires
from api.auth.permissions import Permission
from api.deps import CallerDep, DbSession
from api.moderation.schemas import Scope
from persistence.models import AuditEvent, ModeratorScope

UserId = Annotated[UUID, PathParameter(description="The moderator.")]
CSV_COLUMNS = ("occurred_at", "actor_user_id", "action", "outcome", "target_type", "target_id", "request_id", "details")
MAX_EXPORT = 50_000


class ModerationAdminController(Controller):
    path = "/api/v1/moderation"
    tags = ["moderation"]
    guards = [requires(Permission.MODERATION_ADMIN)]

    @put("/scopes/{user_id:uuid}", operation_id="SetModeratorScope", status_code=200)
    async def set_scope(
        self, user_id: UserId, data: JSONBody[Scope], db_session: DbSession, current_user: CallerDep
    ) -> Scope:
        """Limit a moderator to authors of these departments and conversations of these workplaces
        (both empty: the whole tenant)."""
        await db_session.execute(
            insert(ModeratorScope)
            .values(
                id=uuid7(),
                tenant_id=current_user.tenant_id,
                user_id=user_id,
                department_ids=data.department_ids,
                workplace_ids=data.workplace_ids,
            )
            .on_conflict_do_update(
                index_elements=["user_id"],
                set_={"department_ids": data.department_ids, "workplace_ids": data.workplace_ids},
            )
        )
        return data

    @get("/audit.csv", operation_id="ExportModerationAudit")
    async def export(self, db_session: DbSession) -> Response[str]:
        """Every moderation audit record (flags, rule changes, moderators' actions), oldest first."""
        rows = await db_session.scalars(
            select(AuditEvent)
            .where(AuditEvent.action.like("moderation.%"))
            .order_by(AuditEvent.occurred_at, AuditEvent.id)
            .limit(MAX_EXPORT)
        )
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(CSV_COLUMNS)
        for e in rows:
            writer.writerow(
                [
                    e.occurred_at.isoformat(),
                    e.actor_user_id or "",
                    e.action,
                    e.outcome,
                    e.target_type or "",
                    e.target_id or "",
                    e.request_id or "",
                    json.dumps(e.details, sort_keys=True, default=str),
                ]
            )
        return Response(
            out.getvalue(),
            media_type="text/csv",
            headers={"Content-Disposition": 'attachment; filename="moderation-audit.csv"'},
        )
