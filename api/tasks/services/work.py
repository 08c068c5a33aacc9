"""Working on a task: ticking its checklist (the assignee) and commenting on it (anyone who works on tasks)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING
from uuid import UUID

import msgspec
from advanced_alchemy.repository import SQLAlchemyAsyncRepository
from sqlalchemy import func, select

from api.tasks.schemas import checklist_item_response, comment_response
from api.tasks.services._base import announce, audit_task, require_worker, task_of_tenant
from api.workplaces.base import FieldService, changes, require_row, utc_now
from persistence.models import TaskChecklistItem, TaskComment

if TYPE_CHECKING:
    from api.audit import Origin
    from api.auth.principal import CurrentUser
    from api.tasks.schemas import ChecklistItemCreate, ChecklistItemUpdate, CommentCreate


class ChecklistService(FieldService[TaskChecklistItem]):
    """A task's checklist: managers add lines, the assignee ticks them."""

    class Repo(SQLAlchemyAsyncRepository[TaskChecklistItem]):
        model_type = TaskChecklistItem

    repository_type = Repo

    async def add_item(
        self, task_id: UUID, data: ChecklistItemCreate, *, actor: CurrentUser, origin: Origin
    ) -> TaskChecklistItem:
        """Append a line to the checklist (``not_found`` for a task not in the tenant)."""
        task = await task_of_tenant(self.session, task_id, lock=True)
        last = await self.session.scalar(
            select(func.max(TaskChecklistItem.position)).where(TaskChecklistItem.task_id == task.id)
        )
        item = await self.create(
            TaskChecklistItem(
                tenant_id=actor.tenant_id,
                task_id=task.id,
                position=0 if last is None else last + 1,
                text=data.text,
            )
        )
        audit_task(self.session, actor, origin, "task.checklist.add", task.id, {"item_id": str(item.id)})
        announce(self.session, task, "checklist", msgspec.to_builtins(checklist_item_response(item)), by=actor.id)
        return item

    async def update_item(
        self, task_id: UUID, item_id: UUID, data: ChecklistItemUpdate, *, actor: CurrentUser, origin: Origin
    ) -> TaskChecklistItem:
        """Tick, untick or reword a line (``not_your_task`` (403) unless the assignee or a task manager)."""
        task = await task_of_tenant(self.session, task_id)
        await require_worker(self.session, task, actor)
        item: TaskChecklistItem = await require_row(
            self.session, TaskChecklistItem, item_id, "item_id", task_id=task.id
        )
        fields = changes(data)
        if "done" in fields and fields["done"] != item.done:
            item.done = fields["done"]
            item.done_by, item.done_at = (actor.id, utc_now()) if item.done else (None, None)
        if "text" in fields:
            item.text = fields["text"]
        item = await self.update(item)
        audit_task(
            self.session,
            actor,
            origin,
            "task.checklist.update",
            task.id,
            {"item_id": str(item.id), "fields": sorted(fields)},
        )
        announce(self.session, task, "checklist", msgspec.to_builtins(checklist_item_response(item)), by=actor.id)
        return item


class CommentService(FieldService[TaskComment]):
    """Comments on a task, oldest first."""

    class Repo(SQLAlchemyAsyncRepository[TaskComment]):
        model_type = TaskComment

    repository_type = Repo

    async def comments(self, task_id: UUID, *, limit: int, offset: int) -> tuple[Sequence[TaskComment], int]:
        await task_of_tenant(self.session, task_id)
        rows = await self.session.scalars(
            select(TaskComment)
            .where(TaskComment.task_id == task_id)
            .order_by(TaskComment.created_at, TaskComment.id)
            .limit(limit)
            .offset(offset)
        )
        total = await self.count(TaskComment.task_id == task_id)
        return rows.all(), total

    async def add_comment(
        self, task_id: UUID, data: CommentCreate, *, actor: CurrentUser, origin: Origin
    ) -> TaskComment:
        task = await task_of_tenant(self.session, task_id)
        comment = await self.create(
            TaskComment(tenant_id=actor.tenant_id, task_id=task.id, author_id=actor.id, body=data.body)
        )
        audit_task(self.session, actor, origin, "task.comment", task.id, {"comment_id": str(comment.id)})
        announce(self.session, task, "comment", msgspec.to_builtins(comment_response(comment)), by=actor.id)
        return comment
