"""The caller's own tenant, and new tenants made by operators in a transaction of their own."""

from __future__ import annotations

from typing import TYPE_CHECKING

from advanced_alchemy.repository import SQLAlchemyAsyncRepository

from api.audit import Origin, record
from api.auth.passwords import check_policy
from api.auth.principal import CurrentUser
from api.identity.schemas import TenantCreate, TenantUpdate
from api.identity.services._base import IdentityService, changes, database_errors
from api.provisioning import create_tenant, create_user
from persistence.models import Tenant, User

if TYPE_CHECKING:
    from api.runtime import Runtime


class TenantService(IdentityService[Tenant]):
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
            with database_errors():
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
