"""Comments on a maintenance request, oldest first."""

from __future__ import annotations

from litestar import Controller, get, post
from litestar.params import JSONBody

from api.auth.guards import requires
from api.auth.permissions import Permission
from api.deps import CallerDep, Limit, Offset, OriginDep
from api.maintenance import deps
from api.maintenance.deps import MaintenanceDep, RequestId
from api.maintenance.schemas import CommentCreate, CommentResponse, comment_response
from api.schemas import Page


class MaintenanceCommentController(Controller):
    path = "/api/v1/maintenance/{request_id:uuid}/comments"
    tags = ["maintenance"]
    dependencies = {"maintenance": deps.maintenance}

    @get("/", operation_id="ListMaintenanceComments", guards=[requires(Permission.MAINTENANCE_READ)])
    async def list_comments(
        self, request_id: RequestId, maintenance: MaintenanceDep, limit: Limit = 50, offset: Offset = 0
    ) -> Page[CommentResponse]:
        """Comments on the request, oldest first (``404 not_found``)."""
        rows, total = await maintenance.comments(request_id, limit=limit, offset=offset)
        return Page(items=[comment_response(c) for c in rows], total=total, limit=limit, offset=offset)

    @post("/", operation_id="AddMaintenanceComment", status_code=201, guards=[requires(Permission.MAINTENANCE_WORK)])
    async def add_comment(
        self,
        request_id: RequestId,
        data: JSONBody[CommentCreate],
        maintenance: MaintenanceDep,
        current_user: CallerDep,
        origin: OriginDep,
    ) -> CommentResponse:
        """Comment on the request (``404 not_found``)."""
        return comment_response(await maintenance.add_comment(request_id, data, actor=current_user, origin=origin))
