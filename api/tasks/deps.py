"""Providers of the task services, one per request, on the request's transaction."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from litestar.di import NamedDependency
from litestar.params import PathParameter

from api.deps import per_request
from api.tasks.services import ChecklistService, CommentService, TaskService, TemplateService, TimeService

tasks = per_request(TaskService)
checklists = per_request(ChecklistService)
comments = per_request(CommentService)
times = per_request(TimeService)
templates = per_request(TemplateService)

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

TaskId = Annotated[UUID, PathParameter(description="The task's id.")]
TemplateId = Annotated[UUID, PathParameter(description="The recurring template's id.")]
