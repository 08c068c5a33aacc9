"""Identity rules: who may be created, changed, granted what; every write is audited in the same transaction.

One module per resource; :mod:`api.identity.services._base` holds what they share. Each service is
built per request on the request's session, which runs as the caller's tenant: row-level security
hides every other tenant's rows, so an id of another tenant is simply not found. Controllers only
translate HTTP; the checks in these modules are the whole of the domain.
"""

from api.identity.services._base import changes, check_timezone
from api.identity.services.audit import AuditService
from api.identity.services.departments import DepartmentService
from api.identity.services.roles import RoleService
from api.identity.services.tenants import TenantService
from api.identity.services.users import UserService

__all__ = [
    "AuditService",
    "DepartmentService",
    "RoleService",
    "TenantService",
    "UserService",
    "changes",
    "check_timezone",
]
