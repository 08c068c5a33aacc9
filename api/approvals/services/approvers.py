"""Who approves: a step's rule resolved against the requester, the managers above for escalation, and who
stands in for whom through delegations active at a moment."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from sqlalchemy import and_, select

from persistence.models import ApprovalDelegation, Department, Role, User, UserRole

if TYPE_CHECKING:
    from collections.abc import Iterable
    from datetime import datetime
    from uuid import UUID

    from sqlalchemy import ColumnElement
    from sqlalchemy.ext.asyncio import AsyncSession

    from api.approvals.schemas import Step


class Requester(Protocol):
    """What resolving a step reads of the requester (a ``User``, or a row of :func:`requester_of`)."""

    @property
    def id(self) -> UUID: ...
    @property
    def manager_id(self) -> UUID | None: ...
    @property
    def department_id(self) -> UUID | None: ...


async def requester_of(session: AsyncSession, user_id: UUID, *, active: bool = False) -> Requester | None:
    """The columns :func:`resolve_step` reads of ``user_id`` (``None`` if not in the tenant, or not active
    when ``active``): one narrow read, not a user with its roles."""
    statement = select(User.id, User.manager_id, User.department_id).where(User.id == user_id)
    if active:
        statement = statement.where(User.status == "active")
    row: Requester | None = (await session.execute(statement)).first()
    return row


async def resolve_step(session: AsyncSession, step: Step, requester: Requester) -> list[UUID]:
    """The active users ``step`` names for ``requester``'s request, the requester left out, sorted."""
    candidates: list[UUID | None]
    match step.rule:
        case "manager":
            candidates = [requester.manager_id]
        case "manager_of_manager":
            manager = await session.get(User, requester.manager_id) if requester.manager_id else None
            candidates = [manager.manager_id if manager else None]
        case "department_head":
            candidates = [await _department_head(session, requester, step.levels_up)]
        case "role":
            held = await session.scalars(
                select(UserRole.user_id).join(Role, Role.id == UserRole.role_id).where(Role.name == step.role)
            )
            candidates = list(held.all())
        case "users":
            candidates = list(step.user_ids)
    return await active_users(session, [c for c in candidates if c is not None and c != requester.id])


async def _department_head(session: AsyncSession, requester: Requester, levels_up: int) -> UUID | None:
    """The head of the requester's department ``levels_up`` parents higher, or of the nearest one above
    it that has a head other than the requester."""
    department_id, level, seen = requester.department_id, 0, set()
    while department_id is not None and department_id not in seen:
        seen.add(department_id)
        department = await session.get(Department, department_id)
        if department is None:
            return None
        if level >= levels_up and department.head_user_id not in (None, requester.id):
            return department.head_user_id
        department_id, level = department.parent_id, level + 1
    return None


async def active_users(session: AsyncSession, user_ids: Iterable[UUID]) -> list[UUID]:
    """Those of ``user_ids`` that are active users of the tenant, sorted (ids of other tenants drop out)."""
    wanted = set(user_ids)
    if not wanted:
        return []
    rows = await session.scalars(select(User.id).where(User.id.in_(wanted), User.status == "active"))
    return sorted(rows.all())


async def managers_of(session: AsyncSession, user_ids: Iterable[UUID]) -> list[UUID]:
    """The active managers of ``user_ids`` (the next level up, for escalation), sorted."""
    wanted = set(user_ids)
    if not wanted:
        return []
    rows = await session.scalars(select(User.manager_id).where(User.id.in_(wanted), User.manager_id.is_not(None)))
    return await active_users(session, [m for m in rows.all() if m is not None])


def _active_at(moment: datetime) -> ColumnElement[bool]:
    return and_(
        ApprovalDelegation.revoked_at.is_(None),
        ApprovalDelegation.starts_at <= moment,
        ApprovalDelegation.ends_at > moment,
    )


async def delegators_of(session: AsyncSession, delegate_id: UUID, moment: datetime) -> set[UUID]:
    """The approvers ``delegate_id`` may act for at ``moment`` (one hop: delegations do not chain)."""
    rows = await session.scalars(
        select(ApprovalDelegation.delegator_id).where(ApprovalDelegation.delegate_id == delegate_id, _active_at(moment))
    )
    return set(rows.all())


async def delegates_of(session: AsyncSession, approver_ids: Iterable[UUID], moment: datetime) -> list[UUID]:
    """Everyone standing in at ``moment`` for one of ``approver_ids``, sorted."""
    wanted = set(approver_ids)
    if not wanted:
        return []
    rows = await session.scalars(
        select(ApprovalDelegation.delegate_id).where(ApprovalDelegation.delegator_id.in_(wanted), _active_at(moment))
    )
    return await active_users(session, rows.all())
