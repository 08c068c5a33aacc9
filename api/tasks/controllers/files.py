"""Files on a task: list, add one's own upload, download, remove."""

from __future__ import annotations

from litestar import Controller, delete, get, post
from litestar.params import JSONBody
from litestar.response import Stream

from api.auth.guards import requires
from api.auth.permissions import Permission
from api.chat.schemas_files import attachment_response
from api.chat.uploads import FileStorageDep, file_download, file_storage
from api.deps import CallerDep, OriginDep
from api.tasks import deps
from api.tasks.deps import FileId, TaskFilesDep, TaskId
from api.tasks.schemas import TaskFileAdd, TaskFileResponse
from persistence.models import Attachment, TaskAttachment


def task_file_response(link: TaskAttachment, attachment: Attachment) -> TaskFileResponse:
    return TaskFileResponse(
        task_id=link.task_id, added_at=link.created_at, added_by=link.added_by, file=attachment_response(attachment)
    )


class TaskFileController(Controller):
    path = "/api/v1/tasks/{task_id:uuid}/files"
    tags = ["tasks"]
    dependencies = {"task_files": deps.task_files, "file_storage": file_storage}

    @get("/", operation_id="ListTaskFiles", guards=[requires(Permission.TASKS_READ)])
    async def list_files(self, task_id: TaskId, task_files: TaskFilesDep) -> list[TaskFileResponse]:
        """The task's files, oldest first (``404 not_found``)."""
        return [task_file_response(link, file) for link, file in await task_files.files(task_id)]

    @post("/", operation_id="AddTaskFile", status_code=201, guards=[requires(Permission.TASKS_WORK)])
    async def add_file(
        self,
        task_id: TaskId,
        data: JSONBody[TaskFileAdd],
        task_files: TaskFilesDep,
        current_user: CallerDep,
        origin: OriginDep,
    ) -> TaskFileResponse:
        """Put one of one's uploads on the task; everyone on its page sees it live.

        Errors: ``404 not_found`` (task, or an upload not one's own), ``403 not_your_task``,
        ``409 file_in_use`` (shared in chat or on a task or incident already).
        """
        link, file = await task_files.add(task_id, data, actor=current_user, origin=origin)
        return task_file_response(link, file)

    @get("/{file_id:uuid}/content", operation_id="DownloadTaskFile", guards=[requires(Permission.TASKS_READ)])
    async def download(
        self, task_id: TaskId, file_id: FileId, task_files: TaskFilesDep, file_storage: FileStorageDep
    ) -> Stream:
        """The file's bytes; images inline, anything else as a download (``404 not_found``)."""
        attachment = await task_files.file(task_id, file_id)
        return await file_download(file_storage, attachment)

    @delete("/{file_id:uuid}", operation_id="RemoveTaskFile", status_code=204, guards=[requires(Permission.TASKS_WORK)])
    async def remove_file(
        self, task_id: TaskId, file_id: FileId, task_files: TaskFilesDep, current_user: CallerDep, origin: OriginDep
    ) -> None:
        """Take a file off the task; its upload is deleted by the next sweep (``404 not_found``,
        ``403 not_your_file``)."""
        await task_files.remove(task_id, file_id, actor=current_user, origin=origin)
