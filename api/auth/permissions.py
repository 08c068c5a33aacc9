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
    """Search and export the tenant's audit trail."""
    PRIVACY_MANAGE = "privacy:manage"
    """Export and erase anyone's personal data, and set the tenant's privacy and retention policy."""
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
    ATTENDANCE_CORRECT = "attendance:correct"
    """Correct anyone's attendance entries, with a reason (audited)."""
    ATTENDANCE_ADMIN = "attendance:admin"
    """Set the tenant's work policy: geofence, lateness, rest days and overtime rules."""
    SHIFTS_READ = "shifts:read"
    SHIFTS_WRITE = "shifts:write"
    """Plan and remove anyone's shifts."""
    LEAVE_REQUEST = "leave:request"
    """Request and cancel one's own leave, read one's balances and the team calendar."""
    LEAVE_READ = "leave:read"
    """Read anyone's leave requests and balances."""
    LEAVE_ADMIN = "leave:admin"
    """Define the tenant's leave types and entitlements."""
    TASKS_READ = "tasks:read"
    TASKS_WORK = "tasks:work"
    """Work on tasks: status, checklist and timers of one's own tasks, comments on any."""
    TASKS_WRITE = "tasks:write"
    """Create, assign and change any task, its dependencies and checklist."""
    ASSETS_READ = "assets:read"
    ASSETS_WRITE = "assets:write"
    """Add assets, change them, and record their status and condition."""
    INCIDENTS_REPORT = "incidents:report"
    """Report safety incidents and read one's own reports."""
    INCIDENTS_READ = "incidents:read"
    """Read every safety incident, with its photos and history."""
    INCIDENTS_MANAGE = "incidents:manage"
    """Move incidents through investigation, corrective action and closing."""
    MAINTENANCE_READ = "maintenance:read"
    MAINTENANCE_WORK = "maintenance:work"
    """Raise maintenance requests, comment on any, and work on the ones assigned to oneself."""
    MAINTENANCE_WRITE = "maintenance:write"
    """Assign and change any maintenance request, and set the tenant's SLA hours."""
    BOARD_READ = "board:read"
    """Read the supervisor's live board (who is in, late, open incidents, overdue tasks) and hear its events."""
    APPROVALS_USE = "approvals:use"
    """Submit approval requests, decide those one is an approver (or delegate) of, delegate one's own."""
    APPROVALS_MANAGE = "approvals:manage"
    """Define approval workflows, see every request, submit on behalf of others (integrations)."""
    REPORTS_READ = "reports:read"
    """Run reports and schedule them, over the people and workplaces one supervises."""
    REPORTS_ALL = "reports:all"
    """Run reports over the whole tenant."""


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
                Permission.SHIFTS_READ,
                Permission.LEAVE_REQUEST,
                Permission.TASKS_READ,
                Permission.TASKS_WORK,
                Permission.ASSETS_READ,
                Permission.INCIDENTS_REPORT,
                Permission.MAINTENANCE_READ,
                Permission.MAINTENANCE_WORK,
                Permission.APPROVALS_USE,
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
                Permission.ATTENDANCE_CORRECT,
                Permission.SHIFTS_READ,
                Permission.SHIFTS_WRITE,
                Permission.LEAVE_REQUEST,
                Permission.LEAVE_READ,
                Permission.TASKS_READ,
                Permission.TASKS_WORK,
                Permission.TASKS_WRITE,
                Permission.BOARD_READ,
                Permission.ASSETS_READ,
                Permission.ASSETS_WRITE,
                Permission.INCIDENTS_REPORT,
                Permission.INCIDENTS_READ,
                Permission.INCIDENTS_MANAGE,
                Permission.MAINTENANCE_READ,
                Permission.MAINTENANCE_WORK,
                Permission.MAINTENANCE_WRITE,
                Permission.APPROVALS_USE,
                Permission.REPORTS_READ,
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
                Permission.APPROVALS_USE,
            }
        ),
    ),
    # Critical incidents alert this role at once, whatever its holders' quiet hours.
    "safety": (
        "Safety officer: alerted to critical incidents, investigates and closes them.",
        frozenset(
            {
                Permission.TENANT_READ,
                Permission.USERS_READ,
                Permission.DEPARTMENTS_READ,
                Permission.CHAT_USE,
                Permission.WORKPLACES_READ,
                Permission.ASSETS_READ,
                Permission.INCIDENTS_REPORT,
                Permission.INCIDENTS_READ,
                Permission.INCIDENTS_MANAGE,
                Permission.MAINTENANCE_READ,
                Permission.MAINTENANCE_WORK,
                Permission.APPROVALS_USE,
            }
        ),
    ),
    # Creating other tenants is an operator's power, granted by `fieldhub create-admin --operator` only.
    "admin": ("Administers the tenant.", ALL_PERMISSIONS - {Permission.TENANTS_CREATE}),
}
