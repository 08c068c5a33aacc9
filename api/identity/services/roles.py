"""Roles: named sets of permissions that nobody can grant beyond what they hold themselves."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any
from uuid import UUID

from advanced_alchemy.filters import OrderBy
from advanced_alchemy.repository import SQLAlchemyAsyncRepository
from sqlalchemy import func, select

from api.audit import Origin, record
from api.auth.permissions import Permission
from api.auth.principal import CurrentUser
from api.errors import AppError
from api.identity.schemas import RoleCreate, RoleUpdate
from api.identity.services._base import IdentityService, changes, check_grantable, matching
from persistence.models import Role, UserRole


def _validated_permissions(names: Iterable[str]) -> list[str]:
    """Sorted, de-duplicated permission names; ``unknown_permission`` (422) names those not in the catalogue."""
    wanted = set(names)
    unknown = sorted(wanted - {p.value for p in Permission})
    if unknown:
        raise AppError(
            "unknown_permission",
            "Some permissions do not exist.",
            status_code=422,
            details={"unknown": unknown},
        )
    return sorted(wanted)


class RoleService(IdentityService[Role]):
    """Named sets of permissions; built-in roles keep their names and cannot be deleted."""

    class Repo(SQLAlchemyAsyncRepository[Role]):
        model_type = Role

    repository_type = Repo

    async def page(self, *, limit: int, offset: int, search: str | None = None) -> tuple[Sequence[Role], int]:
        """One page of roles by name, built-in and custom; ``search`` matches the name, case-insensitively."""
        filters: list[Any] = matching(search, "name")
        return await self.page_of(filters, limit=limit, offset=offset, order=[OrderBy("name"), OrderBy("id")])

    async def create_role(self, data: RoleCreate, *, actor: CurrentUser, origin: Origin) -> Role:
        """Add a custom role.

        Raises:
            AppError: ``unknown_permission`` (422); ``forbidden`` (403) for ``tenants:create`` or a
                permission the caller lacks; ``conflict`` (409) for a name already used.
        """
        permissions = _validated_permissions(data.permissions)
        check_grantable(actor, permissions)
        role = await self.create(
            Role(
                tenant_id=actor.tenant_id,
                name=data.name,
                description=data.description,
                permissions=permissions,
                is_builtin=False,
            )
        )
        record(
            self.session,
            tenant_id=actor.tenant_id,
            action="role.create",
            actor_user_id=actor.id,
            origin=origin,
            target_type="role",
            target_id=role.id,
            details={"name": role.name, "permissions": permissions},
        )
        return role

    async def update_role(self, role_id: UUID, data: RoleUpdate, *, actor: CurrentUser, origin: Origin) -> Role:
        """Rename a custom role, or change a role's description and permissions (the admin role's are fixed).

        Raises:
            AppError: ``builtin_role`` (409) when renaming a built-in role or changing the admin role's
                permissions; as :meth:`create_role`.
        """
        role = await self.get_for_update(role_id)
        fields = changes(data)
        if "name" in fields and fields["name"] != role.name and role.is_builtin:
            raise AppError("builtin_role", "A built-in role cannot be renamed.", status_code=409)
        # The admin role is what every recovery starts from: narrowing it could lock the tenant out.
        if role.is_builtin and role.name == "admin" and "permissions" in fields:
            raise AppError("builtin_role", "The admin role's permissions cannot be changed.", status_code=409)
        details: dict[str, Any] = {}
        if "permissions" in fields:
            fields["permissions"] = _validated_permissions(fields["permissions"])
            before, after = set(role.permissions), set(fields["permissions"])
            check_grantable(actor, before ^ after)
            if Permission.TENANTS_CREATE in after:
                check_grantable(actor, [Permission.TENANTS_CREATE])
            details = {"added": sorted(after - before), "removed": sorted(before - after)}
        changed = sorted(k for k, v in fields.items() if getattr(role, k) != v)
        for name in changed:
            setattr(role, name, fields[name])
        role = await self.update(role)
        if changed:
            record(
                self.session,
                tenant_id=actor.tenant_id,
                action="role.update",
                actor_user_id=actor.id,
                origin=origin,
                target_type="role",
                target_id=role.id,
                details={"fields": changed, **details},
            )
        return role

    async def delete_role(self, role_id: UUID, *, actor: CurrentUser, origin: Origin) -> None:
        """Delete a custom role; the users holding it lose it.

        Raises:
            AppError: ``builtin_role`` (409); ``forbidden`` (403) when it holds permissions the caller lacks.
        """
        role = await self.get_for_update(role_id)
        if role.is_builtin:
            raise AppError("builtin_role", "A built-in role cannot be deleted.", status_code=409)
        check_grantable(actor, role.permissions)
        holders = await self.session.scalar(select(func.count()).where(UserRole.role_id == role.id)) or 0
        await self.delete(role.id)
        record(
            self.session,
            tenant_id=actor.tenant_id,
            action="role.delete",
            actor_user_id=actor.id,
            origin=origin,
            target_type="role",
            target_id=role.id,
            details={"name": role.name, "holders": holders},
        )
