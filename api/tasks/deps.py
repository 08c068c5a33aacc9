"""Providers of the task services, one per request, on the request's transaction."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from litestar.di import NamedDependency
from litestar.params import PathParameter

from api.deps import per_request
from api.tasks.services import (
    ChecklistService,
    CommentService,
    TaskFileService,
    TaskService,
    TemplateService,
    TimeService,
)

tasks = per_request(TaskService)
checklists = per_request(ChecklistService)
comments = per_request(CommentService)
times = per_request(TimeService)
templates = per_request(TemplateService)
task_files = per_request(TaskFileService)

TasksDep = NamedDependency[TaskService]
"""The request's task service (``tasks`` parameter)."""
ChecklistsDep = NamedDependency[ChecklistService]
"""The request's checklist service (``checklists`` parameter)."""
CommentsDep = NamedDependency[CommentService]
"""The request's comment service (``comments`` parameter)."""
TimesDep = NamedDependency[TimeService]
"""The request's time tracking service (``times`` parameter)."""
TemplatesDep = NamedDependency[TemplateService]
"""The request's recurring template service (``templates`` parameter)."""
TaskFilesDep = NamedDependency[TaskFileService]
"""The request's task file service (``task_files`` parameter)."""

TaskId = Annotated[UUID, PathParameter(description="The task's id.")]
FileId = Annotated[UUID, PathParameter(description="The file's id (as uploaded to /api/v1/files).")]
TemplateId = Annotated[UUID, PathParameter(description="The recurring template's id.")]
