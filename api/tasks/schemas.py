"""Request and response bodies of the task endpoints.

Times must carry an offset (``422 naive_datetime`` otherwise). Update bodies use ``msgspec.UNSET``
for "leave as is", so ``null`` can clear a nullable field.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal
from uuid import UUID

import msgspec
from msgspec import UNSET, UnsetType

from api.chat.schemas_files import AttachmentResponse
from api.schemas import RequestBody, ResponseBody
from persistence.models import Task, TaskChecklistItem, TaskComment, TaskTimeEntry

if TYPE_CHECKING:
    from sqlalchemy import Row

Title = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Description = Annotated[str, msgspec.Meta(max_length=10_000)]
Label = Annotated[str, msgspec.Meta(min_length=1, max_length=50)]
Labels = Annotated[list[Label], msgspec.Meta(max_length=20)]
ChecklistText = Annotated[str, msgspec.Meta(min_length=1, max_length=500)]
CommentBody = Annotated[str, msgspec.Meta(min_length=1, max_length=4000)]
Note = Annotated[str, msgspec.Meta(max_length=500)]
Priority = Literal["low", "normal", "high", "urgent"]
TaskStatus = Literal["todo", "in_progress", "blocked", "done", "cancelled"]
OPEN_STATUSES: tuple[TaskStatus, ...] = ("todo", "in_progress", "blocked")
"""Statuses of a task still to be done: the ones that can fall due and become overdue."""


class TaskCreate(RequestBody):
    """A new task for a person (``assignee_id``), else everyone holding a role (``assignee_role_id``), else the
    staff of ``workplace_id``; they are notified. ``depends_on`` names tasks that must be done first."""

    title: Title
    description: Description = ""
    assignee_id: UUID | None = None
    assignee_role_id: UUID | None = None
    workplace_id: UUID | None = None
    due_at: datetime | None = None
    priority: Priority = "normal"
    labels: Labels = msgspec.field(default_factory=list)
    requires_photo: bool = False
    checklist: Annotated[list[ChecklistText], msgspec.Meta(max_length=100)] = msgspec.field(default_factory=list)
    depends_on: Annotated[list[UUID], msgspec.Meta(max_length=100)] = msgspec.field(default_factory=list)


class TaskUpdate(RequestBody):
    """A new ``assignee_id`` (or ``assignee_role_id``) notifies whoever the task is now for."""

    title: Title | UnsetType = UNSET
    description: Description | UnsetType = UNSET
    assignee_id: UUID | UnsetType | None = UNSET
    assignee_role_id: UUID | UnsetType | None = UNSET
    workplace_id: UUID | UnsetType | None = UNSET
    due_at: datetime | UnsetType | None = UNSET
    priority: Priority | UnsetType = UNSET
    labels: Labels | UnsetType = UNSET
    requires_photo: bool | UnsetType = UNSET


class StatusChange(RequestBody):
    """Move a task; ``done`` needs its dependencies done and, when it requires one, a photo uploaded
    through ``POST /api/v1/files``."""

    status: TaskStatus
    photo_attachment_id: UUID | None = None


class DependencyAdd(RequestBody):
    depends_on_id: UUID


class ChecklistItemCreate(RequestBody):
    text: ChecklistText


class ChecklistItemUpdate(RequestBody):
    text: ChecklistText | UnsetType = UNSET
    done: bool | UnsetType = UNSET


class CommentCreate(RequestBody):
    body: CommentBody


class TimeEntryCreate(RequestBody):
    """Time worked on a task, entered by hand: at most 24 hours, ended, and not in the future."""

    started_at: datetime
    ended_at: datetime
    note: Note = ""


class ChecklistItemResponse(ResponseBody):
    id: UUID
    position: int
    text: str
    done: bool
    done_by: UUID | None = None
    done_at: datetime | None = None


class TaskResponse(ResponseBody):
    id: UUID
    title: str
    description: str
    status: str
    priority: str
    labels: list[str]
    requires_photo: bool
    created_at: datetime
    updated_at: datetime
    assignee_id: UUID | None = None
    assignee_role_id: UUID | None = None
    workplace_id: UUID | None = None
    created_by: UUID | None = None
    due_at: datetime | None = None
    photo_attachment_id: UUID | None = None
    completed_at: datetime | None = None
    template_id: UUID | None = None
    """The recurring template this task was generated from."""
    occurrence_at: datetime | None = None


class TaskDetail(TaskResponse):
    """A task with what the list leaves out: its dependencies and checklist."""

    depends_on: list[UUID] = msgspec.field(default_factory=list)
    checklist: list[ChecklistItemResponse] = msgspec.field(default_factory=list)


class CommentResponse(ResponseBody):
    id: UUID
    task_id: UUID
    body: str
    created_at: datetime
    author_id: UUID | None = None


class TimeEntryResponse(ResponseBody):
    id: UUID
    task_id: UUID
    user_id: UUID
    started_at: datetime
    manual: bool
    note: str
    ended_at: datetime | None = None
    seconds: int | None = None
    """Length of a finished entry; none while the timer runs."""


class UserTime(ResponseBody):
    user_id: UUID
    seconds: int


class TaskTime(ResponseBody):
    """Finished time on a task, in all and per person; a running timer counts once stopped."""

    task_id: UUID
    total_seconds: int
    per_user: list[UserTime]
    entries: list[TimeEntryResponse]


def task_response(task: Task | object) -> TaskResponse:
    """The task's summary, from a ``Task`` or a row with the same column names."""
    return msgspec.convert(task, TaskResponse, from_attributes=True)


def checklist_item_response(item: TaskChecklistItem) -> ChecklistItemResponse:
    return msgspec.convert(item, ChecklistItemResponse, from_attributes=True)


def comment_response(comment: TaskComment) -> CommentResponse:
    return msgspec.convert(comment, CommentResponse, from_attributes=True)


def time_entry_response(entry: TaskTimeEntry | Row[Any]) -> TimeEntryResponse:
    """The entry's answer, from a ``TaskTimeEntry`` or a row of its columns."""
    seconds = None if entry.ended_at is None else int((entry.ended_at - entry.started_at).total_seconds())
    return TimeEntryResponse(
        id=entry.id,
        task_id=entry.task_id,
        user_id=entry.user_id,
        started_at=entry.started_at,
        ended_at=entry.ended_at,
        manual=entry.manual,
        note=entry.note,
        seconds=seconds,
    )


class TaskFileAdd(RequestBody):
    """One of one's own uploads (``POST /api/v1/files``) not yet shared in chat or on a task or incident."""

    file_id: UUID


class TaskFileResponse(ResponseBody):
    """A file on a task, with who added it."""

    task_id: UUID
    added_at: datetime
    file: AttachmentResponse
    added_by: UUID | None = None
