"""Providers of the identity services (one per request, on the request's transaction) and shared parameters."""

from __future__ import annotations

from typing import Annotated

from litestar.di import NamedDependency, Provide
from litestar.params import Parameter

from api.deps import DbSession
from api.identity.services import AuditService, DepartmentService, RoleService, TenantService, UserService

Limit = Annotated[int, Parameter(ge=1, le=200, description="Items per page (1 to 200).")]
Offset = Annotated[int, Parameter(ge=0, description="Items to skip from the start of the list.")]
Search = Annotated[str | None, Parameter(max_length=200, description="Case-insensitive text to look for.")]


def provide_users(db_session: DbSession) -> UserService:
    return UserService(session=db_session)


def provide_departments(db_session: DbSession) -> DepartmentService:
    return DepartmentService(session=db_session)


def provide_roles(db_session: DbSession) -> RoleService:
    return RoleService(session=db_session)


def provide_tenants(db_session: DbSession) -> TenantService:
    return TenantService(session=db_session)


def provide_audit(db_session: DbSession) -> AuditService:
    return AuditService(session=db_session)


users = Provide(provide_users, sync_to_thread=False)
departments = Provide(provide_departments, sync_to_thread=False)
roles = Provide(provide_roles, sync_to_thread=False)
tenants = Provide(provide_tenants, sync_to_thread=False)
audit = Provide(provide_audit, sync_to_thread=False)

UsersDep = NamedDependency[UserService]
"""The request's user service (``users`` parameter)."""
DepartmentsDep = NamedDependency[DepartmentService]
"""The request's department service (``departments`` parameter)."""
RolesDep = NamedDependency[RoleService]
"""The request's role service (``roles`` parameter)."""
TenantsDep = NamedDependency[TenantService]
"""The request's tenant service (``tenants`` parameter)."""
AuditDep = NamedDependency[AuditService]
"""The request's audit trail reader (``audit`` parameter)."""
