"""The identity endpoints, one controller per resource."""

from api.identity.controllers.audit import AuditController
from api.identity.controllers.departments import DepartmentController
from api.identity.controllers.profile import ProfileController
from api.identity.controllers.roles import RoleController
from api.identity.controllers.tenants import TenantController
from api.identity.controllers.users import UserController

__all__ = [
    "AuditController",
    "DepartmentController",
    "ProfileController",
    "RoleController",
    "TenantController",
    "UserController",
]
