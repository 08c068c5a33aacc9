"""Arranging approval data straight in the database (as the tenant): a reporting line, workflows, requests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import select, update

from api.approvals.schemas import Step
from api.approvals.services import submit
from persistence.models import (
    ApprovalApprover,
    ApprovalEvent,
    ApprovalRequest,
    ApprovalWorkflow,
    AuditEvent,
    Department,
    Notification,
    User,
)
from tests.kit import TenantKit

Client = AsyncTestClient[Litestar]
Headers = dict[str, Any]


@dataclass
class Team:
    """``requester`` reports to ``manager``, who reports to ``director``; the requester's department
    ``store`` has no head and sits under ``region``, headed by ``head``."""

    kit: TenantKit
    requester: UUID
    manager: UUID
    director: UUID
    head: UUID
    store: UUID
    region: UUID

    @classmethod
    async def create(cls, kit: TenantKit) -> Team:
        director = await kit.add_user("director", roles=["supervisor"])
        manager = await kit.add_user("manager", roles=["supervisor"])
        head = await kit.add_user("head", roles=["supervisor"])
        requester = await kit.add_user("requester", roles=["staff"])
        async with kit.runtime.db.transaction(tenant_id=kit.id) as session:
            region = Department(tenant_id=kit.id, name="Region", head_user_id=head)
            session.add(region)
            await session.flush()
            store = Department(tenant_id=kit.id, name="Store", parent_id=region.id)
            session.add(store)
            await session.flush()
            await session.execute(update(User).where(User.id == manager).values(manager_id=director))
            await session.execute(
                update(User).where(User.id == requester).values(manager_id=manager, department_id=store.id)
            )
        return cls(kit, requester, manager, director, head, store.id, region.id)

    async def headers(self, client: Client, name: str) -> Headers:
        return await self.kit.headers(client, name)


async def set_workflow(kit: TenantKit, kind: str, *steps: Step, expires_after_seconds: int = 14 * 86400) -> None:
    """Make ``kind``'s workflow exactly ``steps`` (creating it if needed)."""
    async with kit.runtime.db.transaction(tenant_id=kit.id) as session:
        workflow = await session.scalar(select(ApprovalWorkflow).where(ApprovalWorkflow.kind == kind))
        if workflow is None:
            workflow = ApprovalWorkflow(tenant_id=kit.id, kind=kind, name=kind, expires_after_seconds=0)
            session.add(workflow)
        workflow.steps = msgspec.to_builtins(list(steps))
        workflow.expires_after_seconds = expires_after_seconds
        workflow.active = True


async def submit_request(
    kit: TenantKit,
    requester: UUID,
    *,
    kind: str = "purchase",
    subject_id: UUID | None = None,
    title: str = "New laptop",
    now: datetime | None = None,
) -> UUID:
    async with kit.runtime.db.transaction(tenant_id=kit.id) as session:
        request = await submit(
            session,
            tenant_id=kit.id,
            kind=kind,
            subject_id=subject_id,
            requester_id=requester,
            title=title,
            payload={"amount": 1200},
            now=now,
        )
        return request.id


async def load(kit: TenantKit, request_id: UUID) -> ApprovalRequest:
    async with kit.runtime.db.transaction(tenant_id=kit.id) as session:
        request = await session.get(ApprovalRequest, request_id)
    assert request is not None
    return request


async def approvers(kit: TenantKit, request_id: UUID, step: int | None = None) -> list[ApprovalApprover]:
    async with kit.runtime.db.transaction(tenant_id=kit.id) as session:
        statement = select(ApprovalApprover).where(ApprovalApprover.request_id == request_id)
        if step is not None:
            statement = statement.where(ApprovalApprover.step == step)
        return list((await session.scalars(statement.order_by(ApprovalApprover.step))).all())


async def events(kit: TenantKit, request_id: UUID) -> list[ApprovalEvent]:
    async with kit.runtime.db.transaction(tenant_id=kit.id) as session:
        rows = await session.scalars(
            select(ApprovalEvent).where(ApprovalEvent.request_id == request_id).order_by(ApprovalEvent.id)
        )
        return list(rows.all())


async def notifications(kit: TenantKit, user_id: UUID, request_id: UUID) -> list[Notification]:
    """The approval notifications ``user_id`` got about ``request_id``, oldest first."""
    async with kit.runtime.db.transaction(tenant_id=kit.id) as session:
        rows = await session.scalars(
            select(Notification)
            .where(
                Notification.user_id == user_id,
                Notification.category == "approval",
                Notification.data["approval_request_id"].astext == str(request_id),
            )
            .order_by(Notification.id)
        )
        return list(rows.all())


async def audit_actions(kit: TenantKit, request_id: UUID) -> list[str]:
    async with kit.runtime.db.transaction(tenant_id=kit.id) as session:
        rows = await session.scalars(
            select(AuditEvent.action).where(AuditEvent.target_id == str(request_id)).order_by(AuditEvent.id)
        )
        return list(rows.all())


async def decide(
    client: Client, headers: Headers, request_id: UUID, decision: str = "approve", comment: str = ""
) -> Any:
    return await client.post(
        f"/api/v1/approvals/{request_id}/decisions",
        json={"decision": decision, "comment": comment},
        headers=headers,
    )
