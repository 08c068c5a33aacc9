"""Providers of the identity services, one per request, on the request's transaction."""

from __future__ import annotations

from litestar.di import NamedDependency

from api.deps import Limit, Offset, Search, per_request
from api.identity.services import AuditService, DepartmentService, RoleService, TenantService, UserService

__all__ = [
    "AuditDep",
    "DepartmentsDep",
    "Limit",
    "Offset",
    "RolesDep",
    "Search",
    "TenantsDep",
    "UsersDep",
]

users = per_request(UserService)
departments = per_request(DepartmentService)
roles = per_request(RoleService)
tenants = per_request(TenantService)
audit = per_request(AuditService)

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
