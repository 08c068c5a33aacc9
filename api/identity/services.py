"""Identity rules: who may be created, changed, granted what; every write is audited in the same transaction.

Each service is built per request on the request's session, which runs as the caller's tenant:
row-level security hides every other tenant's rows, so an id of another tenant is simply not found.
Controllers only translate HTTP; the checks below are the whole of the domain.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec
from advanced_alchemy.exceptions import wrap_sqlalchemy_exception
from advanced_alchemy.filters import CollectionFilter, LimitOffset, OnBeforeAfter, OrderBy, SearchFilter
from advanced_alchemy.repository import SQLAlchemyAsyncRepository
from advanced_alchemy.repository.typing import ModelT
from advanced_alchemy.service import SQLAlchemyAsyncRepositoryService
from sqlalchemy import delete, func, select, text

from api.audit import Origin, record
from api.auth.passwords import check_policy
from api.auth.permissions import Permission
from api.auth.principal import CurrentUser
from api.errors import AppError
from api.identity.schemas import (
    DepartmentCreate,
    DepartmentNode,
    DepartmentUpdate,
    ProfileUpdate,
    RoleCreate,
    RoleUpdate,
    TenantCreate,
    TenantUpdate,
    UserCreate,
    UserUpdate,
)
from api.provisioning import create_tenant, create_user
from persistence.models import AuditEvent, Department, Role, Tenant, User, UserRole

if TYPE_CHECKING:
    from collections.abc import Iterator

    from advanced_alchemy.filters import StatementFilter
    from sqlalchemy.ext.asyncio import AsyncSession

    from api.auth.services import AuthService
    from api.runtime import Runtime


# -- shared checks --------------------------------------------------------------------------------


def check_timezone(name: str) -> None:
    """Raise ``invalid_timezone`` (422) unless ``name`` is an IANA zone, e.g. ``Europe/Paris``."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise AppError(
            "invalid_timezone", f"{name!r} is not a known time zone.", status_code=422, details={"timezone": name}
        ) from exc


def changes(data: msgspec.Struct) -> dict[str, Any]:
    """The fields of an update body that were sent: ``{"name": "x"}`` for ``UserUpdate(name="x")``."""
    return {k: v for k, v in msgspec.structs.asdict(data).items() if v is not msgspec.UNSET}


@contextmanager
def _database_errors() -> Iterator[None]:
    """Turn SQLAlchemy errors of code outside a repository into advanced-alchemy's (409 on duplicates)."""
    with wrap_sqlalchemy_exception(dialect_name="postgresql"):
        yield


def _page(limit: int, offset: int, *order: OrderBy) -> list[StatementFilter]:
    return [*order, LimitOffset(limit=limit, offset=offset)]


async def _require_visible(
    session: AsyncSession, model: type[User | Department], item_id: UUID | None, field: str
) -> None:
    """Raise ``invalid_reference`` (400) unless ``item_id`` is ``None`` or a row of the caller's tenant.

    Foreign keys alone are not enough: Postgres checks them past row-level security, so they
    would accept an id of another tenant.
    """
    if item_id is not None and await session.scalar(select(model.id).where(model.id == item_id)) is None:
        raise AppError("invalid_reference", f"No {field.removesuffix('_id')} with this id.", details={"field": field})


def _check_grantable(actor: CurrentUser, permissions: Iterable[str]) -> None:
    """Raise ``forbidden`` (403) for ``tenants:create`` or any permission the caller does not hold."""
    wanted = set(permissions)
    if Permission.TENANTS_CREATE in wanted:
        raise AppError("forbidden", "The 'tenants:create' permission cannot be granted here.", status_code=403)
    missing = sorted(wanted - actor.permissions)
    if missing:
        raise AppError(
            "forbidden",
            "You cannot grant or withdraw permissions you do not hold.",
            status_code=403,
            details={"permissions": missing},
        )


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


class _Service(SQLAlchemyAsyncRepositoryService[ModelT]):
    """What every identity service shares: the request's session, exact totals, row locks."""

    count_with_window_function = False
    """Two queries, so a page past the end still reports the true total."""

    @property
    def session(self) -> AsyncSession:
        session: AsyncSession = self.repository.session
        return session

    async def get_for_update(self, item_id: UUID) -> ModelT:
        """The row ``item_id``, locked until the transaction ends; ``NotFoundError`` (404) when not visible."""
        return await self.get(item_id, statement=select(self.model_type).with_for_update())


# -- users ----------------------------------------------------------------------------------------


class UserService(_Service[User]):
    """People of the caller's tenant: profiles, status and the roles they hold."""

    class Repo(SQLAlchemyAsyncRepository[User]):
        model_type = User

    repository_type = Repo

    async def page(
        self,
        *,
        limit: int,
        offset: int,
        department_id: UUID | None = None,
        role: str | None = None,
        status: str | None = None,
        search: str | None = None,
    ) -> tuple[Sequence[User], int]:
        """One page of users by name; ``search`` matches name or email, case-insensitively."""
        filters: list[Any] = []
        if department_id is not None:
            filters.append(CollectionFilter(field_name="department_id", values=[department_id]))
        if status is not None:
            filters.append(CollectionFilter(field_name="status", values=[status]))
        if role is not None:
            holders = select(UserRole.user_id).join(Role, Role.id == UserRole.role_id).where(Role.name == role)
            filters.append(User.id.in_(holders))
        if search:
            filters.append(
                SearchFilter(field_name={"name", "email"}, value=search, ignore_case=True, escape_wildcards=True)
            )
        filters += _page(limit, offset, OrderBy("name"), OrderBy("id"))
        return await self.get_many_and_count(*filters)

    async def _roles_named(self, names: Iterable[str]) -> list[Role]:
        wanted = set(names)
        roles = list((await self.session.scalars(select(Role).where(Role.name.in_(wanted)))).all())
        unknown = sorted(wanted - {r.name for r in roles})
        if unknown:
            raise AppError("unknown_role", "Some roles do not exist.", status_code=422, details={"unknown": unknown})
        return roles

    async def _check_unique_email(self, email: str) -> None:
        if await self.exists(email=email):
            raise AppError("conflict", "A user with this email exists.", status_code=409, details={"field": "email"})

    async def create_user(self, data: UserCreate, *, actor: CurrentUser, origin: Origin) -> User:
        """Add a user with profile, roles and (optionally) a first password.

        Raises:
            AppError: ``invalid_timezone`` / ``weak_password`` / ``unknown_role`` (422), ``conflict`` (409)
                for a taken email, ``invalid_reference`` (400), ``forbidden`` (403) for a role above the caller.
        """
        check_timezone(data.timezone)
        if data.password is not None:
            check_policy(data.password)
        email = data.email.strip().lower()
        await self._check_unique_email(email)
        await _require_visible(self.session, Department, data.department_id, "department_id")
        await _require_visible(self.session, User, data.manager_id, "manager_id")
        roles = await self._roles_named(data.roles)
        _check_grantable(actor, (p for r in roles for p in r.permissions))
        with _database_errors():
            user = await create_user(
                self.session,
                tenant_id=actor.tenant_id,
                email=email,
                name=data.name,
                password=data.password,
                roles=[r.name for r in roles],
                department_id=data.department_id,
            )
            user.phone = data.phone
            user.timezone = data.timezone
            user.locale = data.locale
            user.manager_id = data.manager_id
            await self.session.flush()
        await self.session.refresh(user, attribute_names=["roles"])
        sent = [k for k, v in msgspec.structs.asdict(data).items() if v is not None and k != "password"]
        record(
            self.session,
            tenant_id=actor.tenant_id,
            action="user.create",
            actor_user_id=actor.id,
            origin=origin,
            target_type="user",
            target_id=user.id,
            details={
                "fields": sorted(sent),
                "roles": sorted(r.name for r in roles),
                "password_set": bool(data.password),
            },
        )
        return user

    async def _apply(self, user: User, fields: dict[str, Any]) -> list[str]:
        """Set profile ``fields`` on ``user`` after checking them; return the names that changed."""
        if "timezone" in fields:
            check_timezone(fields["timezone"])
        if "email" in fields:
            fields["email"] = fields["email"].strip().lower()
            if fields["email"] != user.email:
                await self._check_unique_email(fields["email"])
        if "department_id" in fields and fields["department_id"] != user.department_id:
            await _require_visible(self.session, Department, fields["department_id"], "department_id")
        if "manager_id" in fields and fields["manager_id"] != user.manager_id:
            if fields["manager_id"] == user.id:
                raise AppError("invalid_manager", "A user cannot be their own manager.", status_code=422)
            await _require_visible(self.session, User, fields["manager_id"], "manager_id")
        changed = sorted(k for k, v in fields.items() if getattr(user, k) != v)
        for name in changed:
            setattr(user, name, fields[name])
        with _database_errors():
            await self.session.flush()
        return changed

    async def update_user(
        self, user_id: UUID, data: UserUpdate, *, actor: CurrentUser, origin: Origin, auth: AuthService
    ) -> tuple[User, list[UUID]]:
        """Change a user's profile or status; disabling revokes every session of theirs.

        Returns:
            The user, and the ids of sessions revoked: announce them with
            ``AuthService.announce_revoked`` once the transaction committed (not before).

        Raises:
            AppError: as :meth:`create_user`; ``cannot_disable_self`` (409).
        """
        user = await self.get_for_update(user_id)
        fields = changes(data)
        if fields.get("status") == "disabled" and user.id == actor.id:
            raise AppError("cannot_disable_self", "You cannot disable your own account.", status_code=409)
        changed = await self._apply(user, fields)
        revoked: list[UUID] = []
        details: dict[str, Any] = {"fields": changed}
        if "status" in changed and user.status == "disabled":
            revoked = await auth.revoke_sessions(self.session, user_id=user.id)
            details["sessions_revoked"] = len(revoked)
        if changed:
            record(
                self.session,
                tenant_id=actor.tenant_id,
                action="user.update",
                actor_user_id=actor.id,
                origin=origin,
                target_type="user",
                target_id=user.id,
                details=details,
            )
        return user, revoked

    async def update_profile(self, data: ProfileUpdate, *, actor: CurrentUser, origin: Origin) -> User:
        """Change the caller's own profile (name, phone, time zone, locale, avatar)."""
        user = await self.get_for_update(actor.id)
        changed = await self._apply(user, changes(data))
        if changed:
            record(
                self.session,
                tenant_id=actor.tenant_id,
                action="user.profile.update",
                actor_user_id=actor.id,
                origin=origin,
                target_type="user",
                target_id=user.id,
                details={"fields": changed},
            )
        return user

    async def set_roles(self, user_id: UUID, names: list[str], *, actor: CurrentUser, origin: Origin) -> User:
        """Make ``names`` exactly the roles ``user_id`` holds.

        The caller must hold every permission of each role added or taken away, so nobody raises
        anyone (themselves included) above their own rights.

        Raises:
            AppError: ``unknown_role`` (422), ``forbidden`` (403).
        """
        user = await self.get_for_update(user_id)
        wanted = {r.id: r for r in await self._roles_named(names)}
        held = {r.id: r for r in user.roles}
        added = [wanted[i] for i in wanted.keys() - held.keys()]
        removed = [held[i] for i in held.keys() - wanted.keys()]
        _check_grantable(actor, (p for r in (*added, *removed) for p in r.permissions))
        if removed:
            await self.session.execute(
                delete(UserRole).where(UserRole.user_id == user.id, UserRole.role_id.in_([r.id for r in removed]))
            )
        self.session.add_all(UserRole(tenant_id=user.tenant_id, user_id=user.id, role_id=r.id) for r in added)
        await self.session.flush()
        await self.session.refresh(user, attribute_names=["roles"])
        if added or removed:
            record(
                self.session,
                tenant_id=actor.tenant_id,
                action="user.roles.set",
                actor_user_id=actor.id,
                origin=origin,
                target_type="user",
                target_id=user.id,
                details={"added": sorted(r.name for r in added), "removed": sorted(r.name for r in removed)},
            )
        return user


# -- departments ----------------------------------------------------------------------------------


class DepartmentService(_Service[Department]):
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
        filters: list[Any] = []
        if parent_id is not None:
            filters.append(CollectionFilter(field_name="parent_id", values=[parent_id]))
        if search:
            filters.append(SearchFilter(field_name="name", value=search, ignore_case=True, escape_wildcards=True))
        filters += _page(limit, offset, OrderBy("name"), OrderBy("id"))
        return await self.get_many_and_count(*filters)

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
        await _require_visible(self.session, Department, data.parent_id, "parent_id")
        await _require_visible(self.session, User, data.head_user_id, "head_user_id")
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
            await _require_visible(self.session, Department, new_parent, "parent_id")
            if await self._would_cycle(department.id, new_parent):
                raise AppError(
                    "department_cycle",
                    "A department cannot be moved under itself or one of its sub-departments.",
                    status_code=422,
                )
        if fields.get("head_user_id") is not None:
            await _require_visible(self.session, User, fields["head_user_id"], "head_user_id")
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


# -- roles ----------------------------------------------------------------------------------------


class RoleService(_Service[Role]):
    """Named sets of permissions; built-in roles keep their names and cannot be deleted."""

    class Repo(SQLAlchemyAsyncRepository[Role]):
        model_type = Role

    repository_type = Repo

    async def page(self, *, limit: int, offset: int, search: str | None = None) -> tuple[Sequence[Role], int]:
        filters: list[Any] = []
        if search:
            filters.append(SearchFilter(field_name="name", value=search, ignore_case=True, escape_wildcards=True))
        filters += _page(limit, offset, OrderBy("name"), OrderBy("id"))
        return await self.get_many_and_count(*filters)

    async def create_role(self, data: RoleCreate, *, actor: CurrentUser, origin: Origin) -> Role:
        """Add a custom role.

        Raises:
            AppError: ``unknown_permission`` (422); ``forbidden`` (403) for ``tenants:create`` or a
                permission the caller lacks; ``conflict`` (409) for a name already used.
        """
        permissions = _validated_permissions(data.permissions)
        _check_grantable(actor, permissions)
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
        """Rename a custom role, or change any role's description and permissions.

        Raises:
            AppError: ``builtin_role`` (409) when renaming a built-in role; as :meth:`create_role`.
        """
        role = await self.get_for_update(role_id)
        fields = changes(data)
        if "name" in fields and fields["name"] != role.name and role.is_builtin:
            raise AppError("builtin_role", "A built-in role cannot be renamed.", status_code=409)
        details: dict[str, Any] = {}
        if "permissions" in fields:
            fields["permissions"] = _validated_permissions(fields["permissions"])
            before, after = set(role.permissions), set(fields["permissions"])
            _check_grantable(actor, before ^ after)
            if Permission.TENANTS_CREATE in after:
                _check_grantable(actor, [Permission.TENANTS_CREATE])
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
        _check_grantable(actor, role.permissions)
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


# -- tenants --------------------------------------------------------------------------------------


class TenantService(_Service[Tenant]):
    """The caller's own tenant, and (for operators) new tenants."""

    class Repo(SQLAlchemyAsyncRepository[Tenant]):
        model_type = Tenant

    repository_type = Repo

    async def update_tenant(self, data: TenantUpdate, *, actor: CurrentUser, origin: Origin) -> Tenant:
        """Rename the caller's tenant or replace its settings."""
        tenant = await self.get_for_update(actor.tenant_id)
        fields = changes(data)
        changed = sorted(k for k, v in fields.items() if getattr(tenant, k) != v)
        for name in changed:
            setattr(tenant, name, fields[name])
        tenant = await self.update(tenant)
        if changed:
            record(
                self.session,
                tenant_id=actor.tenant_id,
                action="tenant.update",
                actor_user_id=actor.id,
                origin=origin,
                target_type="tenant",
                target_id=tenant.id,
                details={"fields": changed},
            )
        return tenant

    async def create_tenant(
        self, data: TenantCreate, *, runtime: Runtime, actor: CurrentUser, origin: Origin
    ) -> tuple[Tenant, User]:
        """Create a tenant, its built-in roles and its first admin, in a transaction of its own.

        The new tenant is committed when this returns, before the request's own transaction
        (which records the event in the caller's audit trail too). Both trails name the operator.

        Raises:
            AppError: ``weak_password`` (422); ``conflict`` (409) when the slug is taken.
        """
        if data.admin.password is not None:
            check_policy(data.admin.password)
        async with runtime.db.transaction() as session:
            with _database_errors():
                tenant = await create_tenant(session, name=data.name, slug=data.slug)
                admin = await create_user(
                    session,
                    tenant_id=tenant.id,
                    email=data.admin.email,
                    name=data.admin.name,
                    password=data.admin.password,
                    roles=["admin"],
                )
            record(
                session,
                tenant_id=tenant.id,
                action="tenant.create",
                actor_user_id=actor.id,
                origin=origin,
                target_type="tenant",
                target_id=tenant.id,
                details={"by_tenant": str(actor.tenant_id), "admin_user_id": str(admin.id)},
            )
        record(
            self.session,
            tenant_id=actor.tenant_id,
            action="tenant.create",
            actor_user_id=actor.id,
            origin=origin,
            target_type="tenant",
            target_id=tenant.id,
            details={"slug": tenant.slug, "name": tenant.name},
        )
        return tenant, admin


# -- audit ----------------------------------------------------------------------------------------


class AuditService(_Service[AuditEvent]):
    """Reads the tenant's audit trail (written by :func:`api.audit.record`, never here)."""

    class Repo(SQLAlchemyAsyncRepository[AuditEvent]):
        model_type = AuditEvent

    repository_type = Repo

    async def page(
        self,
        *,
        limit: int,
        offset: int,
        action: str | None = None,
        actor_user_id: UUID | None = None,
        since: datetime | None = None,
    ) -> tuple[Sequence[AuditEvent], int]:
        """One page of events, newest first; ``since`` is inclusive."""
        filters: list[Any] = []
        if action is not None:
            filters.append(CollectionFilter(field_name="action", values=[action]))
        if actor_user_id is not None:
            filters.append(CollectionFilter(field_name="actor_user_id", values=[actor_user_id]))
        if since is not None:
            filters.append(OnBeforeAfter(field_name="occurred_at", on_or_before=None, on_or_after=since))
        filters += _page(limit, offset, OrderBy("occurred_at", "desc"), OrderBy("id", "desc"))
        return await self.get_many_and_count(*filters)
