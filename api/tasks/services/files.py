"""Files on a task: anyone who sees the task lists and downloads them; whoever may work on it adds one of their
own unshared uploads; the one who added a file, or a task manager, removes it.

The bytes live in the chat's attachment storage. A removed file is no longer pointed at by anything, so the
chat's orphan sweep deletes it with its bytes, as it does any upload never shared.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from advanced_alchemy.repository import SQLAlchemyAsyncRepository
from sqlalchemy import exists, select

from api.auth.permissions import Permission
from api.errors import AppError
from api.tasks.services._base import announce, audit_task, require_worker, task_of_tenant
from api.workplaces.base import FieldService
from persistence.models import Attachment, IncidentPhoto, Task, TaskAttachment

if TYPE_CHECKING:
    from uuid import UUID

    from api.audit import Origin
    from api.auth.principal import CurrentUser
    from api.tasks.schemas import TaskFileAdd


class TaskFileService(FieldService[TaskAttachment]):
    """The files of the tenant's tasks."""

    class Repo(SQLAlchemyAsyncRepository[TaskAttachment]):
        model_type = TaskAttachment

    repository_type = Repo

    async def files(self, task_id: UUID) -> Sequence[tuple[TaskAttachment, Attachment]]:
        """The task's files, oldest first (``not_found`` (404) for a task not in the tenant)."""
        await task_of_tenant(self.session, task_id)
        rows = await self.session.execute(
            select(TaskAttachment, Attachment)
            .join(Attachment, Attachment.id == TaskAttachment.attachment_id)
            .where(TaskAttachment.task_id == task_id)
            .order_by(TaskAttachment.created_at, TaskAttachment.id)
        )
        return rows.tuples().all()

    async def file(self, task_id: UUID, file_id: UUID) -> Attachment:
        """The file ``file_id`` of the task; ``not_found`` (404) for any other."""
        await task_of_tenant(self.session, task_id)
        attachment: Attachment | None = await self.session.scalar(
            select(Attachment)
            .join(TaskAttachment, TaskAttachment.attachment_id == Attachment.id)
            .where(TaskAttachment.task_id == task_id, Attachment.id == file_id)
        )
        if attachment is None:
            raise AppError("not_found", "No such file on this task.", status_code=404, details={"field": "file_id"})
        return attachment

    async def add(
        self, task_id: UUID, data: TaskFileAdd, *, actor: CurrentUser, origin: Origin
    ) -> tuple[TaskAttachment, Attachment]:
        """Put one of the caller's uploads on the task.

        Raises:
            AppError: ``not_found`` (404) for a task, or an upload not the caller's (another person's upload
                is as private as another tenant's); ``not_your_task`` (403); ``file_in_use`` (409) for an upload
                shared in chat or on a task or incident already.
        """
        task = await task_of_tenant(self.session, task_id)
        await require_worker(self.session, task, actor)
        # Locked, so the orphan sweep cannot delete the upload while it is being claimed.
        upload: Attachment | None = await self.session.scalar(
            select(Attachment).where(Attachment.id == data.file_id).with_for_update()
        )
        if upload is None or upload.uploader_id != actor.id:
            raise AppError(
                "not_found", "No upload of yours with this id.", status_code=404, details={"field": "file_id"}
            )
        claimed = await self.session.scalar(
            select(
                exists().where(TaskAttachment.attachment_id == upload.id)
                | exists().where(IncidentPhoto.attachment_id == upload.id)
                | exists().where(Task.photo_attachment_id == upload.id)
            )
        )
        if upload.message_id is not None or claimed:
            raise AppError(
                "file_in_use",
                "This upload is already shared in chat or on a task or incident.",
                status_code=409,
                details={"file_id": str(upload.id)},
            )
        link = await self.create(
            TaskAttachment(tenant_id=actor.tenant_id, task_id=task.id, attachment_id=upload.id, added_by=actor.id)
        )
        details = {"file_id": str(upload.id), "filename": upload.filename}
        audit_task(self.session, actor, origin, "task.file_add", task.id, details)
        announce(self.session, task, "file", {"added": str(upload.id)}, by=actor.id)
        return link, upload

    async def remove(self, task_id: UUID, file_id: UUID, *, actor: CurrentUser, origin: Origin) -> None:
        """Take a file off the task.

        Raises:
            AppError: ``not_found`` (404); ``not_your_file`` (403) unless the caller added it or manages tasks.
        """
        task = await task_of_tenant(self.session, task_id)
        link: TaskAttachment | None = await self.session.scalar(
            select(TaskAttachment)
            .where(TaskAttachment.task_id == task.id, TaskAttachment.attachment_id == file_id)
            .with_for_update()
        )
        if link is None:
            raise AppError("not_found", "No such file on this task.", status_code=404, details={"field": "file_id"})
        if link.added_by != actor.id and not actor.can(Permission.TASKS_WRITE):
            raise AppError("not_your_file", "Only who added the file or a task manager may remove it.", status_code=403)
        await self.delete(link.id)
        audit_task(self.session, actor, origin, "task.file_remove", task.id, {"file_id": str(file_id)})
        announce(self.session, task, "file", {"removed": str(file_id)}, by=actor.id)
