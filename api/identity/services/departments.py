"""The tenant's department tree: pages, the nested view, and changes that can never build a cycle."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

import msgspec
from advanced_alchemy.filters import OrderBy
from advanced_alchemy.repository import SQLAlchemyAsyncRepository
from sqlalchemy import func, select, text

from api.audit import Origin, record
from api.auth.principal import CurrentUser
from api.errors import AppError
from api.identity.schemas import DepartmentCreate, DepartmentNode, DepartmentUpdate
from api.identity.services._base import IdentityService, changes, equal_to, matching, require_visible
from persistence.models import Department, User


class DepartmentService(IdentityService[Department]):
    """The tenant's department tree.

    Changes to the tree take a per-tenant advisory lock for the rest of the transaction, so two
    concurrent moves cannot together build a cycle that neither would alone.
    """

    class Repo(SQLAlchemyAsyncRepository[Department]):
        model_type = Department

    repository_type = Repo

    async def _lock_tree(self, tenant_id: UUID) -> None:
        await self.session.execute(
            text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"), {"key": f"department-tree:{tenant_id}"}
        )

    async def page(
        self, *, limit: int, offset: int, parent_id: UUID | None = None, search: str | None = None
    ) -> tuple[Sequence[Department], int]:
        """One page of departments by name, flat; ``search`` matches the name, case-insensitively."""
        filters: list[Any] = [*equal_to(parent_id=parent_id), *matching(search, "name")]
        return await self.page_of(filters, limit=limit, offset=offset, order=[OrderBy("name"), OrderBy("id")])

    async def tree(self) -> list[DepartmentNode]:
        """Every department, nested under its parent; siblings by name."""
        rows = await self.get_many(OrderBy("name"), OrderBy("id"))
        nodes = {d.id: DepartmentNode(id=d.id, name=d.name, head_user_id=d.head_user_id, children=[]) for d in rows}
        roots: list[DepartmentNode] = []
        for d in rows:
            parent = nodes.get(d.parent_id) if d.parent_id else None
            (parent.children if parent else roots).append(nodes[d.id])
        return roots

    async def _would_cycle(self, department_id: UUID, new_parent_id: UUID) -> bool:
        """Whether ``department_id`` is ``new_parent_id`` or one of its ancestors."""
        ancestors = (
            select(Department.id, Department.parent_id).where(Department.id == new_parent_id).cte(recursive=True)
        )
        ancestors = ancestors.union(
            select(Department.id, Department.parent_id).join(ancestors, Department.id == ancestors.c.parent_id)
        )
        hit = await self.session.scalar(select(ancestors.c.id).where(ancestors.c.id == department_id).limit(1))
        return hit is not None

    async def create_department(self, data: DepartmentCreate, *, actor: CurrentUser, origin: Origin) -> Department:
        """Add a department under ``parent_id`` (or at the top).

        Raises:
            AppError: ``invalid_reference`` (400); ``conflict`` (409) for a name already used.
        """
        await self._lock_tree(actor.tenant_id)
        await require_visible(self.session, Department, data.parent_id, "parent_id")
        await require_visible(self.session, User, data.head_user_id, "head_user_id")
        department = await self.create(
            Department(
                tenant_id=actor.tenant_id, name=data.name, parent_id=data.parent_id, head_user_id=data.head_user_id
            )
        )
        record(
            self.session,
            tenant_id=actor.tenant_id,
            action="department.create",
            actor_user_id=actor.id,
            origin=origin,
            target_type="department",
            target_id=department.id,
            details={"fields": sorted(k for k, v in msgspec.structs.asdict(data).items() if v is not None)},
        )
        return department

    async def update_department(
        self, department_id: UUID, data: DepartmentUpdate, *, actor: CurrentUser, origin: Origin
    ) -> Department:
        """Rename, move or change the head of a department.

        Raises:
            AppError: ``department_cycle`` (422) when moved under itself or a descendant;
                ``invalid_reference`` (400); ``conflict`` (409).
        """
        await self._lock_tree(actor.tenant_id)
        department = await self.get_for_update(department_id)
        fields = changes(data)
        new_parent = fields.get("parent_id")
        if new_parent is not None and new_parent != department.parent_id:
            await require_visible(self.session, Department, new_parent, "parent_id")
            if await self._would_cycle(department.id, new_parent):
                raise AppError(
                    "department_cycle",
                    "A department cannot be moved under itself or one of its sub-departments.",
                    status_code=422,
                )
        if fields.get("head_user_id") is not None:
            await require_visible(self.session, User, fields["head_user_id"], "head_user_id")
        changed = sorted(k for k, v in fields.items() if getattr(department, k) != v)
        for name in changed:
            setattr(department, name, fields[name])
        department = await self.update(department)
        if changed:
            record(
                self.session,
                tenant_id=actor.tenant_id,
                action="department.update",
                actor_user_id=actor.id,
                origin=origin,
                target_type="department",
                target_id=department.id,
                details={"fields": changed},
            )
        return department

    async def delete_department(self, department_id: UUID, *, actor: CurrentUser, origin: Origin) -> None:
        """Delete a department that has no sub-departments and no members.

        Raises:
            AppError: ``department_in_use`` (409), with the counts in ``details``.
        """
        await self._lock_tree(actor.tenant_id)
        department = await self.get_for_update(department_id)
        children = await self.count(Department.parent_id == department.id)
        members = await self.session.scalar(select(func.count()).where(User.department_id == department.id)) or 0
        if children or members:
            raise AppError(
                "department_in_use",
                "Move its sub-departments and members elsewhere first.",
                status_code=409,
                details={"children": children, "users": members},
            )
        await self.delete(department.id)
        record(
            self.session,
            tenant_id=actor.tenant_id,
            action="department.delete",
            actor_user_id=actor.id,
            origin=origin,
            target_type="department",
            target_id=department.id,
            details={"name": department.name},
        )
