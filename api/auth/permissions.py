"""The permission catalogue and what each built-in role holds."""

from __future__ import annotations

from enum import StrEnum


class Permission(StrEnum):
    """Every permission an endpoint can require; roles hold lists of these."""

    TENANT_READ = "tenant:read"
    TENANT_WRITE = "tenant:write"
    TENANTS_CREATE = "tenants:create"
    USERS_READ = "users:read"
    USERS_WRITE = "users:write"
    DEPARTMENTS_READ = "departments:read"
    DEPARTMENTS_WRITE = "departments:write"
    ROLES_READ = "roles:read"
    ROLES_WRITE = "roles:write"
    AUDIT_READ = "audit:read"
    MODERATION_REVIEW = "moderation:review"
    NOTIFICATIONS_SEND = "notifications:send"
    NOTIFICATIONS_ADMIN = "notifications:admin"
    CHAT_USE = "chat:use"


ALL_PERMISSIONS = frozenset(Permission)

BUILTIN_ROLES: dict[str, tuple[str, frozenset[Permission]]] = {
    "staff": (
        "Field staff: chat and their own work.",
        frozenset({Permission.TENANT_READ, Permission.USERS_READ, Permission.DEPARTMENTS_READ, Permission.CHAT_USE}),
    ),
    "supervisor": (
        "Leads a team: sees people, departments and roles.",
        frozenset(
            {
                Permission.TENANT_READ,
                Permission.USERS_READ,
                Permission.DEPARTMENTS_READ,
                Permission.ROLES_READ,
                Permission.CHAT_USE,
                Permission.NOTIFICATIONS_SEND,
            }
        ),
    ),
    "moderator": (
        "Reviews flagged content.",
        frozenset(
            {
                Permission.TENANT_READ,
                Permission.USERS_READ,
                Permission.DEPARTMENTS_READ,
                Permission.MODERATION_REVIEW,
                Permission.AUDIT_READ,
                Permission.CHAT_USE,
            }
        ),
    ),
    # Creating other tenants is an operator's power, granted by `fieldhub create-admin --operator` only.
    "admin": ("Administers the tenant.", ALL_PERMISSIONS - {Permission.TENANTS_CREATE}),
}
