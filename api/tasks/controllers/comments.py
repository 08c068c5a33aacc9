"""Comments on a task, oldest first."""

from __future__ import annotations

from litestar import Controller, get, post
from litestar.params import JSONBody

from api.auth.guards import requires
from api.auth.permissions import Permission
from api.deps import CallerDep, Limit, Offset, OriginDep
from api.schemas import Page
from api.tasks import deps
from api.tasks.deps import CommentsDep, TaskId
from api.tasks.schemas import CommentCreate, CommentResponse, comment_response


class CommentController(Controller):
    path = "/api/v1/tasks/{task_id:uuid}/comments"
    tags = ["tasks"]
    dependencies = {"comments": deps.comments}

    @get("/", operation_id="ListTaskComments", guards=[requires(Permission.TASKS_READ)])
    async def list_comments(
        self, task_id: TaskId, comments: CommentsDep, limit: Limit = 50, offset: Offset = 0
    ) -> Page[CommentResponse]:
        """Comments on the task, oldest first."""
        rows, total = await comments.comments(task_id, limit=limit, offset=offset)
        return Page(items=[comment_response(c) for c in rows], total=total, limit=limit, offset=offset)

    @post("/", operation_id="AddTaskComment", status_code=201, guards=[requires(Permission.TASKS_WORK)])
    async def add_comment(
        self,
        task_id: TaskId,
        data: JSONBody[CommentCreate],
        comments: CommentsDep,
        current_user: CallerDep,
        origin: OriginDep,
    ) -> CommentResponse:
        """Comment on the task."""
        return comment_response(await comments.add_comment(task_id, data, actor=current_user, origin=origin))
