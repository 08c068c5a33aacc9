"""Administering moderation: a moderator's scope, the tenant's disclosure setting, and the moderation
audit trail (moderators' own actions included) as a page or a CSV export."""

from __future__ import annotations

import csv
import io
import json
from typing import Annotated
from uuid import UUID

from litestar import Controller, Response, get, put
from litestar.params import JSONBody, PathParameter, QueryParameter
from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.sql import ColumnElement
from uuid_utils.compat import uuid7

from api.audit import record
from api.auth.guards import requires
from api.auth.permissions import Permission
from api.deps import CallerDep, DbSession, Limit, Offset, OriginDep
from api.identity.schemas import AuditEventResponse, audit_event_response
from api.moderation.schemas import ModerationSettingsBody, Scope
from api.schemas import Page
from persistence.models import AuditEvent, ModerationSettings, ModeratorScope

UserId = Annotated[UUID, PathParameter(description="The moderator.")]
CSV_COLUMNS = ("occurred_at", "actor_user_id", "action", "outcome", "target_type", "target_id", "request_id", "details")
MAX_EXPORT = 50_000


class ModerationAdminController(Controller):
    path = "/api/v1/moderation"
    tags = ["moderation"]
    guards = [requires(Permission.MODERATION_ADMIN)]

    @put("/scopes/{user_id:uuid}", operation_id="SetModeratorScope", status_code=200)
    async def set_scope(
        self, user_id: UserId, data: JSONBody[Scope], db_session: DbSession, current_user: CallerDep, origin: OriginDep
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
        record(
            db_session,
            tenant_id=current_user.tenant_id,
            action="moderation.scope.update",
            actor_user_id=current_user.id,
            origin=origin,
            target_type="user",
            target_id=user_id,
            details={
                "department_ids": [str(d) for d in data.department_ids],
                "workplace_ids": [str(w) for w in data.workplace_ids],
            },
        )
        return data

    @get("/scopes/{user_id:uuid}", operation_id="GetModeratorScope")
    async def get_scope(self, user_id: UserId, db_session: DbSession) -> Scope:
        """The moderator's scope (both lists empty: the whole tenant)."""
        scope = await db_session.scalar(select(ModeratorScope).where(ModeratorScope.user_id == user_id))
        if scope is None:
            return Scope()
        return Scope(department_ids=list(scope.department_ids or []), workplace_ids=list(scope.workplace_ids or []))

    @get("/settings", operation_id="GetModerationSettings")
    async def get_settings(self, db_session: DbSession) -> ModerationSettingsBody:
        """The tenant's moderation settings."""
        reveal = await db_session.scalar(select(ModerationSettings.reveal_moderator))
        return ModerationSettingsBody(reveal_moderator=bool(reveal))

    @put("/settings", operation_id="SetModerationSettings", status_code=200)
    async def set_settings(
        self, data: JSONBody[ModerationSettingsBody], db_session: DbSession, current_user: CallerDep, origin: OriginDep
    ) -> ModerationSettingsBody:
        """``reveal_moderator``: whether a reporter's feedback on a closed case names the moderator."""
        await db_session.execute(
            insert(ModerationSettings)
            .values(
                id=uuid7(), tenant_id=current_user.tenant_id, rules_version=0, reveal_moderator=data.reveal_moderator
            )
            .on_conflict_do_update(index_elements=["tenant_id"], set_={"reveal_moderator": data.reveal_moderator})
        )
        record(
            db_session,
            tenant_id=current_user.tenant_id,
            action="moderation.settings.update",
            actor_user_id=current_user.id,
            origin=origin,
            target_type="moderation_settings",
            target_id=current_user.tenant_id,
            details={"reveal_moderator": data.reveal_moderator},
        )
        return data

    @get("/audit", operation_id="ListModerationAudit")
    async def audit(
        self,
        db_session: DbSession,
        actor: Annotated[
            UUID | None, QueryParameter(description="Only what this user did (a moderator's own actions).")
        ] = None,
        action: Annotated[str | None, QueryParameter(max_length=64, description="Only this action.")] = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> Page[AuditEventResponse]:
        """Moderation audit records (flags, rule changes, moderators' actions), newest first."""
        where: list[ColumnElement[bool]] = [AuditEvent.action.like("moderation.%")]
        if actor is not None:
            where.append(AuditEvent.actor_user_id == actor)
        if action is not None:
            where.append(AuditEvent.action == action)
        total = await db_session.scalar(select(func.count()).select_from(AuditEvent).where(*where)) or 0
        rows = await db_session.scalars(
            select(AuditEvent)
            .where(*where)
            .order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc())
            .limit(limit)
            .offset(offset)
        )
        return Page(items=[audit_event_response(e) for e in rows], total=total, limit=limit, offset=offset)

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
