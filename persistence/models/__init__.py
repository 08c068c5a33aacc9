"""Every domain's tables; importing this package registers them all on the shared metadata."""

from persistence.models.identity import (
    AuditEvent,
    AuthChallenge,
    AuthSession,
    Department,
    MfaRecoveryCode,
    MfaTotp,
    PasswordReset,
    Role,
    Tenant,
    User,
    UserRole,
)
from persistence.models.jobs import Job

__all__ = [
    "AuditEvent",
    "AuthChallenge",
    "AuthSession",
    "Department",
    "Job",
    "MfaRecoveryCode",
    "MfaTotp",
    "PasswordReset",
    "Role",
    "Tenant",
    "User",
    "UserRole",
]
