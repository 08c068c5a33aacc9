"""Create tenants (with their built-in roles) and users: shared by the CLI, the demo and the tenants API."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select
from uuid_utils.compat import uuid7

from api.approvals.defaults import seed_default_workflows
from api.auth.passwords import hash_password
from api.auth.permissions import BUILTIN_ROLES, Permission
from api.leave.defaults import seed_leave_types
from persistence.models import Role, Tenant, User, UserRole
from persistence.tenancy import set_transaction_tenant

if TYPE_CHECKING:
    from collections.abc import Iterable
    from uuid import UUID

    from sqlalchemy.ext.asyncio import AsyncSession

OPERATOR_ROLE = "operator"


async def create_tenant(session: AsyncSession, *, name: str, slug: str) -> Tenant:
    """Insert a tenant with its built-in roles, default approval workflows and leave types, switching to it.

    Row-level security lets a transaction write only the tenant it runs as, so the new tenant's
    id is chosen first and the transaction switched to it.
    """
    tenant = Tenant(id=uuid7(), name=name, slug=slug)
    await set_transaction_tenant(session, tenant.id)
    session.add(tenant)
    await session.flush()
    for role_name, (description, permissions) in BUILTIN_ROLES.items():
        session.add(
            Role(
                tenant_id=tenant.id,
                name=role_name,
                description=description,
                permissions=sorted(p.value for p in permissions),
                is_builtin=True,
            )
        )
    await session.flush()
    await seed_default_workflows(session, tenant.id)
    await seed_leave_types(session, tenant.id)
    return tenant


async def ensure_operator_role(session: AsyncSession, tenant_id: UUID) -> None:
    """The role that may create other tenants: only the CLI grants it."""
    exists = await session.scalar(select(Role.id).where(Role.tenant_id == tenant_id, Role.name == OPERATOR_ROLE))
    if exists is None:
        session.add(
            Role(
                tenant_id=tenant_id,
                name=OPERATOR_ROLE,
                description="Operates the installation: creates tenants.",
                permissions=[Permission.TENANTS_CREATE.value],
                is_builtin=True,
            )
        )
        await session.flush()


async def grant_roles(session: AsyncSession, user: User, role_names: Iterable[str]) -> None:
    """Give ``user`` the named roles of their tenant (unknown names are an error)."""
    names = set(role_names)
    roles = (await session.scalars(select(Role).where(Role.tenant_id == user.tenant_id, Role.name.in_(names)))).all()
    missing = names - {r.name for r in roles}
    if missing:
        raise ValueError(f"unknown roles: {', '.join(sorted(missing))}")
    held = set((await session.scalars(select(UserRole.role_id).where(UserRole.user_id == user.id))).all())
    session.add_all(
        UserRole(tenant_id=user.tenant_id, user_id=user.id, role_id=r.id) for r in roles if r.id not in held
    )
    await session.flush()


async def create_user(
    session: AsyncSession,
    *,
    tenant_id: UUID,
    email: str,
    name: str,
    password: str | None,
    roles: Iterable[str] = ("staff",),
    department_id: UUID | None = None,
) -> User:
    """Insert a user with a hashed password (``None``: cannot sign in until a reset) and roles."""
    user = User(
        tenant_id=tenant_id,
        email=email.strip().lower(),
        name=name,
        password_hash=await hash_password(password) if password else None,
        department_id=department_id,
    )
    session.add(user)
    await session.flush()
    await grant_roles(session, user, roles)
    return user
