"""Who is online now: the presence a client shows before any ``presence`` frame has arrived."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from litestar import Controller, get
from litestar.params import QueryParameter

from api.auth.guards import requires
from api.auth.permissions import Permission
from api.deps import CallerDep, RuntimeDep
from api.errors import AppError
from api.schemas import ResponseBody

UserIds = Annotated[list[UUID], QueryParameter(description="Up to 200 user ids.", max_items=200)]


class PresenceEntry(ResponseBody):
    user_id: UUID
    status: str
    last_seen: float | None = None


class PresenceController(Controller):
    path = "/api/v1/presence"
    tags = ["chat"]
    guards = [requires(Permission.CHAT_USE)]

    @get("/", operation_id="GetPresence")
    async def presence(self, user_ids: UserIds, current_user: CallerDep, runtime: RuntimeDep) -> list[PresenceEntry]:
        """Status (``online``, ``away``, ``dnd``, ``offline``) and last seen (unix seconds) of users of the
        caller's tenant; ids of other tenants read as offline, since presence is kept per tenant."""
        if runtime.hub is None:
            raise AppError("unavailable", "Presence is not available in this process.", status_code=503)
        namespace = str(current_user.tenant_id)
        entries = []
        try:
            for user_id in dict.fromkeys(user_ids):
                status = await runtime.hub.presence.status(namespace, str(user_id))
                last_seen = (
                    await runtime.hub.presence.last_seen(namespace, str(user_id)) if status == "offline" else None
                )
                entries.append(PresenceEntry(user_id=user_id, status=status, last_seen=last_seen))
        except ConnectionError:
            raise AppError("unavailable", "Presence is unavailable for a moment; try again.", status_code=503) from None
        return entries
