"""The tenant's audit trail: search, newest first, and CSV export of any size, oldest first."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from litestar import Controller, get
from litestar.params import QueryParameter
from litestar.response import Stream

from api.auth.guards import requires
from api.auth.permissions import Permission
from api.deps import CallerDep, RuntimeDep
from api.identity import deps
from api.identity.deps import AuditDep, Limit, Offset
from api.identity.schemas import AuditEventResponse, audit_event_response
from api.identity.services.audit import AuditQuery, csv_lines
from api.schemas import Page

Action = Annotated[
    str | None,
    QueryParameter(max_length=64, description="Only this action, e.g. user.create; a trailing * matches a prefix."),
]
Actor = Annotated[UUID | None, QueryParameter(description="Only events caused by this user.")]
TargetType = Annotated[str | None, QueryParameter(max_length=64, description="Only events about this kind of thing.")]
TargetId = Annotated[str | None, QueryParameter(max_length=64, description="Only events about the thing with this id.")]
Since = Annotated[datetime | None, QueryParameter(description="Only events at or after this instant (ISO 8601).")]
Until = Annotated[datetime | None, QueryParameter(description="Only events before this instant (ISO 8601).")]


class AuditController(Controller):
    path = "/api/v1/audit"
    tags = ["audit"]
    guards = [requires(Permission.AUDIT_READ)]
    dependencies = {"audit": deps.audit}

    @get("/", operation_id="ListAuditEvents")
    async def list_events(
        self,
        audit: AuditDep,
        action: Action = None,
        actor: Actor = None,
        target_type: TargetType = None,
        target_id: TargetId = None,
        since: Since = None,
        until: Until = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> Page[AuditEventResponse]:
        """Audit events of the caller's tenant matching every filter given, newest first."""
        query = AuditQuery(
            action=action, actor_user_id=actor, target_type=target_type, target_id=target_id, since=since, until=until
        )
        rows, total = await audit.page(query, limit=limit, offset=offset)
        return Page(items=[audit_event_response(e) for e in rows], total=total, limit=limit, offset=offset)

    @get("/export", operation_id="ExportAuditEvents")
    async def export(
        self,
        runtime: RuntimeDep,
        current_user: CallerDep,
        action: Action = None,
        actor: Actor = None,
        target_type: TargetType = None,
        target_id: TargetId = None,
        since: Since = None,
        until: Until = None,
    ) -> Stream:
        """The matching events as CSV, oldest first, streamed (with each entry's chain ``seq`` and ``hash``)."""
        query = AuditQuery(
            action=action, actor_user_id=actor, target_type=target_type, target_id=target_id, since=since, until=until
        )
        query.conditions()  # a bad range is refused before the first byte is sent
        return Stream(
            csv_lines(runtime.db, tenant_id=current_user.tenant_id, query=query),
            media_type="text/csv",
            headers={"Content-Disposition": 'attachment; filename="audit.csv"'},
        )
