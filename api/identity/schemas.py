"""Request and response bodies of the identity endpoints: users, departments, roles, tenants, audit.

Update bodies use ``msgspec.UNSET`` for "leave as is", so ``null`` can clear a nullable field.
Responses never carry password hashes or lockout state.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

import msgspec
from msgspec import UNSET, UnsetType

from api.schemas import RequestBody, ResponseBody
from persistence.models import AuditEvent, Department, Role, Tenant, User

Email = Annotated[str, msgspec.Meta(min_length=3, max_length=320, pattern=r"^[^@\s]+@[^@\s]+$")]
PersonName = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Phone = Annotated[str, msgspec.Meta(min_length=3, max_length=32, pattern=r"^\+?[0-9 ()./-]+$")]
TimeZoneName = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
Locale = Annotated[str, msgspec.Meta(min_length=2, max_length=16, pattern=r"^[A-Za-z]{2,3}([_-][A-Za-z0-9]{2,8})*$")]
AvatarUrl = Annotated[str, msgspec.Meta(max_length=2048, pattern=r"^https?://")]
Password = Annotated[str, msgspec.Meta(min_length=1, max_length=1024)]
RoleName = Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9_-]*$")]
DepartmentName = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
TenantName = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Slug = Annotated[str, msgspec.Meta(min_length=2, max_length=63, pattern=r"^[a-z0-9][a-z0-9-]*$")]
PermissionName = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
UserStatus = Literal["active", "disabled"]

# -- users ----------------------------------------------------------------------------------------


class UserCreate(RequestBody):
    """A new user of the caller's tenant; without ``password`` they sign in after a reset."""

    email: Email
    name: PersonName
    phone: Phone | None = None
    timezone: TimeZoneName = "UTC"
    locale: Locale = "en"
    department_id: UUID | None = None
    manager_id: UUID | None = None
    roles: list[RoleName] = msgspec.field(default_factory=lambda: ["staff"])
    password: Password | None = None


class UserUpdate(RequestBody):
    """What an administrator may change about a user; ``status: disabled`` signs them out everywhere."""

    email: Email | UnsetType = UNSET
    name: PersonName | UnsetType = UNSET
    phone: Phone | UnsetType | None = UNSET
    timezone: TimeZoneName | UnsetType = UNSET
    locale: Locale | UnsetType = UNSET
    avatar_url: AvatarUrl | UnsetType | None = UNSET
    department_id: UUID | UnsetType | None = UNSET
    manager_id: UUID | UnsetType | None = UNSET
    status: UserStatus | UnsetType = UNSET


class ProfileUpdate(RequestBody):
    """What anyone may change about their own profile."""

    name: PersonName | UnsetType = UNSET
    phone: Phone | UnsetType | None = UNSET
    timezone: TimeZoneName | UnsetType = UNSET
    locale: Locale | UnsetType = UNSET
    avatar_url: AvatarUrl | UnsetType | None = UNSET


class UserRolesUpdate(RequestBody):
    """The complete set of roles the user should hold afterwards."""

    roles: list[RoleName]


class UserResponse(ResponseBody):
    id: UUID
    email: str
    name: str
    timezone: str
    locale: str
    status: str
    roles: list[str]
    created_at: datetime
    updated_at: datetime
    phone: str | None = None
    avatar_url: str | None = None
    department_id: UUID | None = None
    manager_id: UUID | None = None
    last_login_at: datetime | None = None


# -- departments ----------------------------------------------------------------------------------


class DepartmentCreate(RequestBody):
    name: DepartmentName
    parent_id: UUID | None = None
    head_user_id: UUID | None = None


class DepartmentUpdate(RequestBody):
    """``parent_id: null`` moves the department to the top of the tree."""

    name: DepartmentName | UnsetType = UNSET
    parent_id: UUID | UnsetType | None = UNSET
    head_user_id: UUID | UnsetType | None = UNSET


class DepartmentResponse(ResponseBody):
    id: UUID
    name: str
    created_at: datetime
    updated_at: datetime
    parent_id: UUID | None = None
    head_user_id: UUID | None = None


class DepartmentNode(ResponseBody):
    """A department with its sub-departments, recursively."""

    id: UUID
    name: str
    children: list[DepartmentNode]
    head_user_id: UUID | None = None


# -- roles ----------------------------------------------------------------------------------------


class RoleCreate(RequestBody):
    name: RoleName
    permissions: list[PermissionName]
    description: Annotated[str, msgspec.Meta(max_length=2000)] = ""


class RoleUpdate(RequestBody):
    """A built-in role keeps its name; its description and permissions may change."""

    name: RoleName | UnsetType = UNSET
    description: Annotated[str, msgspec.Meta(max_length=2000)] | UnsetType = UNSET
    permissions: list[PermissionName] | UnsetType = UNSET


class RoleResponse(ResponseBody):
    id: UUID
    name: str
    description: str
    permissions: list[str]
    is_builtin: bool
    created_at: datetime
    updated_at: datetime


# -- tenants --------------------------------------------------------------------------------------


class TenantUpdate(RequestBody):
    """``settings`` replaces the whole settings object."""

    name: TenantName | UnsetType = UNSET
    settings: dict[str, Any] | UnsetType = UNSET


class FirstAdmin(RequestBody):
    email: Email
    name: PersonName
    password: Password | None = None


class TenantCreate(RequestBody):
    name: TenantName
    slug: Slug
    admin: FirstAdmin


class TenantResponse(ResponseBody):
    id: UUID
    name: str
    slug: str
    status: str
    settings: dict[str, Any]
    created_at: datetime
    updated_at: datetime


class TenantCreated(ResponseBody):
    id: UUID
    slug: str
    admin_user_id: UUID


# -- audit ----------------------------------------------------------------------------------------


class AuditEventResponse(ResponseBody):
    id: UUID
    occurred_at: datetime
    action: str
    outcome: str
    details: dict[str, Any]
    actor_user_id: UUID | None = None
    target_type: str | None = None
    target_id: str | None = None
    ip: str | None = None
    user_agent: str | None = None
    request_id: str | None = None


# -- from rows ------------------------------------------------------------------------------------


def user_response(user: User) -> UserResponse:
    """The public view of a user: no password hash, no lockout counters."""
    return UserResponse(
        id=user.id,
        email=user.email,
        name=user.name,
        phone=user.phone,
        timezone=user.timezone,
        locale=user.locale,
        avatar_url=user.avatar_url,
        status=user.status,
        department_id=user.department_id,
        manager_id=user.manager_id,
        roles=sorted(r.name for r in user.roles),
        last_login_at=user.last_login_at,
        created_at=user.created_at,
        updated_at=user.updated_at,
    )


def department_response(department: Department) -> DepartmentResponse:
    return msgspec.convert(department, DepartmentResponse, from_attributes=True)


def role_response(role: Role) -> RoleResponse:
    return msgspec.convert(role, RoleResponse, from_attributes=True)


def tenant_response(tenant: Tenant) -> TenantResponse:
    return msgspec.convert(tenant, TenantResponse, from_attributes=True)


def audit_event_response(event: AuditEvent) -> AuditEventResponse:
    return msgspec.convert(event, AuditEventResponse, from_attributes=True)
