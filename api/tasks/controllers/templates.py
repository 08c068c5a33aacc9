"""Recurring task templates ("a store visit every Monday"): the worker turns their occurrences into tasks."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from litestar import Controller, get, patch, post
from litestar.params import JSONBody, QueryParameter

from api.auth.guards import requires
from api.auth.permissions import Permission
from api.deps import CallerDep, Limit, Offset, OriginDep
from api.schemas import Page
from api.tasks import deps
from api.tasks.deps import TemplateId, TemplatesDep
from api.tasks.template_schemas import TemplateCreate, TemplateResponse, TemplateUpdate, template_response
from api.workplaces.base import require_row
from persistence.models import TaskTemplate


class TemplateController(Controller):
    path = "/api/v1/task-templates"
    tags = ["tasks"]
    dependencies = {"templates": deps.templates}

    @get("/", operation_id="ListTaskTemplates", guards=[requires(Permission.TASKS_READ)])
    async def list_templates(
        self,
        templates: TemplatesDep,
        workplace_id: Annotated[UUID | None, QueryParameter(description="Only templates of this workplace.")] = None,
        active: Annotated[bool | None, QueryParameter(description="Only active (or stopped) templates.")] = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> Page[TemplateResponse]:
        """The tenant's recurring task templates, oldest first."""
        rows, total = await templates.page(limit=limit, offset=offset, workplace_id=workplace_id, active=active)
        return Page(items=[template_response(t) for t in rows], total=total, limit=limit, offset=offset)

    @get("/{template_id:uuid}", operation_id="GetTaskTemplate", guards=[requires(Permission.TASKS_READ)])
    async def get_template(self, templates: TemplatesDep, template_id: TemplateId) -> TemplateResponse:
        """One template (``404 not_found`` for another tenant's)."""
        return template_response(await require_row(templates.session, TaskTemplate, template_id, "template_id"))

    @post("/", operation_id="CreateTaskTemplate", status_code=201, guards=[requires(Permission.TASKS_WRITE)])
    async def create_template(
        self, data: JSONBody[TemplateCreate], templates: TemplatesDep, current_user: CallerDep, origin: OriginDep
    ) -> TemplateResponse:
        """Add a recurring template; the worker creates its tasks up to a week ahead.

        Errors: ``422 invalid_recurrence`` (weekly without weekdays, monthly without month_day, ends before it
        starts), ``422 timezone_required`` without a workplace or timezone, ``422 invalid_timezone``,
        ``404 not_found`` for an assignee, role or workplace not in the tenant.
        """
        return template_response(await templates.create_template(data, actor=current_user, origin=origin))

    @patch("/{template_id:uuid}", operation_id="UpdateTaskTemplate", guards=[requires(Permission.TASKS_WRITE)])
    async def update_template(
        self,
        template_id: TemplateId,
        data: JSONBody[TemplateUpdate],
        templates: TemplatesDep,
        current_user: CallerDep,
        origin: OriginDep,
    ) -> TemplateResponse:
        """Change or stop (``active: false``) a template; the same errors as on creation."""
        template = await templates.update_template(template_id, data, actor=current_user, origin=origin)
        return template_response(template)
