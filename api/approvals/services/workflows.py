"""Approval workflows: one per request kind, each an ordered list of steps whose rules are checked on save."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import msgspec
from advanced_alchemy.filters import OrderBy
from advanced_alchemy.repository import SQLAlchemyAsyncRepository
from sqlalchemy import select

from api.approvals.services.approvers import active_users
from api.errors import AppError
from api.workplaces.base import AuditsTarget, FieldService, changes
from persistence.models import ApprovalWorkflow, Role

if TYPE_CHECKING:
    from uuid import UUID

    from api.approvals.schemas import Step, WorkflowCreate, WorkflowUpdate
    from api.audit import Origin
    from api.auth.principal import CurrentUser


class WorkflowService(FieldService[ApprovalWorkflow], AuditsTarget):
    """The tenant's approval workflows."""

    audit_target = "approval_workflow"

    class Repo(SQLAlchemyAsyncRepository[ApprovalWorkflow]):
        model_type = ApprovalWorkflow

    repository_type = Repo

    async def page(self, *, limit: int, offset: int) -> tuple[Sequence[ApprovalWorkflow], int]:
        """One page of workflows by kind."""
        return await self.page_of([], limit=limit, offset=offset, order=[OrderBy("kind"), OrderBy("id")])

    async def create_workflow(self, data: WorkflowCreate, *, actor: CurrentUser, origin: Origin) -> ApprovalWorkflow:
        """Add the workflow of ``data.kind``.

        Raises:
            AppError: ``invalid_step`` (422) naming the step; ``conflict`` (409) when the kind has one.
        """
        await self._check_steps(data.steps)
        workflow = await self.create(
            ApprovalWorkflow(
                tenant_id=actor.tenant_id,
                kind=data.kind,
                name=data.name,
                steps=msgspec.to_builtins(data.steps),
                expires_after_seconds=data.expires_after_seconds,
                active=data.active,
            )
        )
        self._audit(actor, origin, "approval_workflow.create", workflow.id, {"kind": workflow.kind})
        return workflow

    async def update_workflow(
        self, workflow_id: UUID, data: WorkflowUpdate, *, actor: CurrentUser, origin: Origin
    ) -> ApprovalWorkflow:
        """Change a workflow; requests in flight keep their steps. ``invalid_step`` (422) as on creation."""
        workflow = await self.get_for_update(workflow_id)
        fields = changes(data)
        if "steps" in fields:
            await self._check_steps(fields["steps"])
            fields["steps"] = msgspec.to_builtins(fields["steps"])
        for name, value in fields.items():
            setattr(workflow, name, value)
        workflow = await self.update(workflow)
        self._audit(actor, origin, "approval_workflow.update", workflow.id, {"fields": sorted(fields)})
        return workflow

    async def delete_workflow(self, workflow_id: UUID, *, actor: CurrentUser, origin: Origin) -> None:
        """Remove a workflow; its open requests go on with their own copy of the steps."""
        workflow = await self.get_for_update(workflow_id)
        await self.delete(workflow.id)
        self._audit(actor, origin, "approval_workflow.delete", workflow.id, {"kind": workflow.kind})

    async def _check_steps(self, steps: list[Step]) -> None:
        for index, step in enumerate(steps):
            problem = await self._step_problem(step)
            if problem:
                raise AppError("invalid_step", f"Step {index + 1}: {problem}", status_code=422, details={"step": index})

    async def _step_problem(self, step: Step) -> str | None:
        if step.rule == "role":
            if step.role is None:
                return "a role rule names the role."
            if await self.session.scalar(select(Role.id).where(Role.name == step.role)) is None:
                return f"no role {step.role!r}."
        if step.rule == "users":
            if not step.user_ids:
                return "a users rule names at least one user."
            if len(await active_users(self.session, step.user_ids)) != len(set(step.user_ids)):
                return "every named user must be an active user of the tenant."
        return None
