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

__all__ = [
    "AuditEvent",
    "AuthChallenge",
    "AuthSession",
    "Department",
    "MfaRecoveryCode",
    "MfaTotp",
    "PasswordReset",
    "Role",
    "Tenant",
    "User",
    "UserRole",
]
