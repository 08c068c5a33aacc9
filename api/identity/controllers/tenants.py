"""The caller's tenant (read, rename, settings) and, for operators, creating new tenants."""

from __future__ import annotations

from litestar import Controller, get, patch, post
from litestar.params import JSONBody

from api.auth.guards import requires
from api.auth.permissions import Permission
from api.deps import CallerDep, OriginDep, RuntimeDep
from api.identity import deps
from api.identity.deps import TenantsDep
from api.identity.schemas import TenantCreate, TenantCreated, TenantResponse, TenantUpdate, tenant_response


class TenantController(Controller):
    path = "/api/v1/tenants"
    tags = ["tenants"]
    dependencies = {"tenants": deps.tenants}

    @get("/current", operation_id="GetCurrentTenant", guards=[requires(Permission.TENANT_READ)])
    async def get_current(self, tenants: TenantsDep, current_user: CallerDep) -> TenantResponse:
        """The caller's tenant."""
        return tenant_response(await tenants.get(current_user.tenant_id))

    @patch("/current", operation_id="UpdateCurrentTenant", guards=[requires(Permission.TENANT_WRITE)])
    async def update_current(
        self, data: JSONBody[TenantUpdate], tenants: TenantsDep, current_user: CallerDep, origin: OriginDep
    ) -> TenantResponse:
        """Rename the tenant or replace its settings object."""
        return tenant_response(await tenants.update_tenant(data, actor=current_user, origin=origin))

    @post("/", operation_id="CreateTenant", status_code=201, guards=[requires(Permission.TENANTS_CREATE)])
    async def create_tenant(
        self,
        data: JSONBody[TenantCreate],
        tenants: TenantsDep,
        runtime: RuntimeDep,
        current_user: CallerDep,
        origin: OriginDep,
    ) -> TenantCreated:
        """Create a tenant with its built-in roles and first admin (operators only; ``409`` for a taken slug)."""
        tenant, admin = await tenants.create_tenant(data, runtime=runtime, actor=current_user, origin=origin)
        return TenantCreated(id=tenant.id, slug=tenant.slug, admin_user_id=admin.id)
