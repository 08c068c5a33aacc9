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
    MODERATION_RULES = "moderation:rules"
    MODERATION_ADMIN = "moderation:admin"
    NOTIFICATIONS_SEND = "notifications:send"
    NOTIFICATIONS_ADMIN = "notifications:admin"
    CHAT_USE = "chat:use"
    WORKPLACES_READ = "workplaces:read"
    WORKPLACES_WRITE = "workplaces:write"
    ATTENDANCE_CLOCK = "attendance:clock"
    """Clock oneself in and out, and read one's own attendance."""
    ATTENDANCE_READ = "attendance:read"
    """Read everyone's attendance (a supervisor's day view)."""
    TASKS_READ = "tasks:read"
    TASKS_WORK = "tasks:work"
    """Work on tasks: status, checklist and timers of one's own tasks, comments on any."""
    TASKS_WRITE = "tasks:write"
    """Create, assign and change any task, its dependencies and checklist."""


ALL_PERMISSIONS = frozenset(Permission)

BUILTIN_ROLES: dict[str, tuple[str, frozenset[Permission]]] = {
    "staff": (
        "Field staff: chat and their own work.",
        frozenset(
            {
                Permission.TENANT_READ,
                Permission.USERS_READ,
                Permission.DEPARTMENTS_READ,
                Permission.CHAT_USE,
                Permission.WORKPLACES_READ,
                Permission.ATTENDANCE_CLOCK,
                Permission.TASKS_READ,
                Permission.TASKS_WORK,
            }
        ),
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
                Permission.WORKPLACES_READ,
                Permission.WORKPLACES_WRITE,
                Permission.ATTENDANCE_CLOCK,
                Permission.ATTENDANCE_READ,
                Permission.TASKS_READ,
                Permission.TASKS_WORK,
                Permission.TASKS_WRITE,
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
                Permission.MODERATION_RULES,
                Permission.AUDIT_READ,
                Permission.CHAT_USE,
                Permission.WORKPLACES_READ,
            }
        ),
    ),
    # Creating other tenants is an operator's power, granted by `fieldhub create-admin --operator` only.
    "admin": ("Administers the tenant.", ALL_PERMISSIONS - {Permission.TENANTS_CREATE}),
}
