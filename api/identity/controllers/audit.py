"""The tenant's audit trail, newest first."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from litestar import Controller, get
from litestar.params import QueryParameter

from api.auth.guards import requires
from api.auth.permissions import Permission
from api.identity import deps
from api.identity.deps import AuditDep, Limit, Offset
from api.identity.schemas import AuditEventResponse, audit_event_response
from api.schemas import Page


class AuditController(Controller):
    path = "/api/v1/audit"
    tags = ["audit"]
    guards = [requires(Permission.AUDIT_READ)]
    dependencies = {"audit": deps.audit}

    @get("/", operation_id="ListAuditEvents")
    async def list_events(
        self,
        audit: AuditDep,
        action: Annotated[
            str | None, QueryParameter(max_length=64, description="Only this action, e.g. user.create.")
        ] = None,
        actor: Annotated[UUID | None, QueryParameter(description="Only events caused by this user.")] = None,
        since: Annotated[
            datetime | None, QueryParameter(description="Only events at or after this instant (ISO 8601).")
        ] = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> Page[AuditEventResponse]:
        """Audit events of the caller's tenant, newest first."""
        rows, total = await audit.page(limit=limit, offset=offset, action=action, actor_user_id=actor, since=since)
        return Page(items=[audit_event_response(e) for e in rows], total=total, limit=limit, offset=offset)
