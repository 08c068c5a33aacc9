"""Identity tables: tenants, departments, roles, users, sessions, MFA, password resets and the audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from advanced_alchemy.types import DateTimeUTC
from sqlalchemy import (
    ARRAY,
    BigInteger,
    Boolean,
    CheckConstraint,
    FetchedValue,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from persistence.base import AuditedModel, Model, TenantScoped


class Tenant(AuditedModel):
    """A customer organisation; every other tenant table points here."""

    __tablename__ = "tenant"

    name: Mapped[str] = mapped_column(String(200))
    slug: Mapped[str] = mapped_column(String(63), unique=True)
    status: Mapped[str] = mapped_column(String(20), default="active")
    settings: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)


class Department(TenantScoped, AuditedModel):
    """A node of the tenant's department tree."""

    __tablename__ = "department"
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)

    name: Mapped[str] = mapped_column(String(200))
    parent_id: Mapped[UUID | None] = mapped_column(ForeignKey("department.id", ondelete="RESTRICT"), index=True)
    head_user_id: Mapped[UUID | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))


class Role(TenantScoped, AuditedModel):
    """A named set of permissions; the built-in ones (staff, supervisor, moderator, admin) cannot be deleted."""

    __tablename__ = "role"
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)

    name: Mapped[str] = mapped_column(String(64))
    description: Mapped[str] = mapped_column(Text, default="")
    permissions: Mapped[list[str]] = mapped_column(ARRAY(String(64)), default=list)
    is_builtin: Mapped[bool] = mapped_column(Boolean, default=False)


class UserRole(TenantScoped, Model):
    """One role held by one user."""

    __tablename__ = "user_role"
    __table_args__ = (UniqueConstraint("user_id", "role_id"),)

    user_id: Mapped[UUID] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), index=True)
    role_id: Mapped[UUID] = mapped_column(ForeignKey("role.id", ondelete="CASCADE"), index=True)


class User(TenantScoped, AuditedModel):
    """A person who signs in: profile, credentials and lockout state."""

    __tablename__ = "app_user"
    __table_args__ = (UniqueConstraint("tenant_id", "email"),)

    email: Mapped[str] = mapped_column(String(320))
    name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(32))
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    locale: Mapped[str] = mapped_column(String(16), default="en")
    avatar_url: Mapped[str | None] = mapped_column(String(2048))
    status: Mapped[str] = mapped_column(String(20), default="active")
    department_id: Mapped[UUID | None] = mapped_column(
        ForeignKey("department.id", ondelete="SET NULL", use_alter=True), index=True
    )
    manager_id: Mapped[UUID | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    last_login_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))

    roles: Mapped[list[Role]] = relationship(secondary="user_role", lazy="selectin", viewonly=True)


class AuthSession(TenantScoped, AuditedModel):
    """A signed-in device: the opaque token is kept only as its keyed hash."""

    __tablename__ = "auth_session"

    user_id: Mapped[UUID] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    expires_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    last_seen_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(512))


class AuthChallenge(TenantScoped, AuditedModel):
    """A password that was right, waiting for its second factor (short-lived, single use)."""

    __tablename__ = "auth_challenge"

    user_id: Mapped[UUID] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    expires_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    attempts: Mapped[int] = mapped_column(Integer, default=0)


class MfaTotp(TenantScoped, AuditedModel):
    """A user's TOTP secret (encrypted at rest) and the last time step used, so no code works twice."""

    __tablename__ = "mfa_totp"

    user_id: Mapped[UUID] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), unique=True)
    secret_encrypted: Mapped[bytes] = mapped_column(LargeBinary)
    confirmed_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    last_used_step: Mapped[int] = mapped_column(Integer, default=0)


class MfaRecoveryCode(TenantScoped, Model):
    """One single-use recovery code, kept as its hash."""

    __tablename__ = "mfa_recovery_code"

    user_id: Mapped[UUID] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    used_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))


class PasswordReset(TenantScoped, AuditedModel):
    """A single-use password reset token sent by email, kept as its hash."""

    __tablename__ = "password_reset"

    user_id: Mapped[UUID] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    expires_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))


class AuditEvent(TenantScoped, Model):
    """An append-only record of an auth event or a change to identity data: who, what, when, from where.

    Each tenant's entries form a hash chain (``persistence.audit_chain``): the personal digest is
    filled in as the row is inserted, never by the caller; ``seq``, ``prev_hash`` and ``hash`` stay
    NULL until a linker joins the committed entry to the chain (``fieldhub_audit_link``).
    """

    __tablename__ = "audit_event"
    __table_args__ = (
        Index("ix_audit_event_tenant_occurred", "tenant_id", "occurred_at"),
        Index("ix_audit_event_unlinked", "tenant_id", "id", postgresql_where=text("seq IS NULL")),
        UniqueConstraint("tenant_id", "seq", name="uq_audit_event_tenant_seq"),
        CheckConstraint("(seq IS NULL) = (prev_hash IS NULL) AND (seq IS NULL) = (hash IS NULL)", name="linked_whole"),
    )

    occurred_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    actor_user_id: Mapped[UUID | None] = mapped_column(index=True)
    action: Mapped[str] = mapped_column(String(64), index=True)
    outcome: Mapped[str] = mapped_column(String(16), default="success")
    target_type: Mapped[str | None] = mapped_column(String(64))
    target_id: Mapped[str | None] = mapped_column(String(64))
    ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(512))
    request_id: Mapped[str | None] = mapped_column(String(64))
    details: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    # Written by the linker (fieldhub_audit_link) only: FetchedValue keeps them out of the INSERT, which
    # the application role may not give them.
    seq: Mapped[int | None] = mapped_column(BigInteger, server_default=FetchedValue())
    """The entry's place in its tenant's chain; NULL until linked."""
    prev_hash: Mapped[bytes | None] = mapped_column(LargeBinary(32), server_default=FetchedValue())
    hash: Mapped[bytes | None] = mapped_column(LargeBinary(32), server_default=FetchedValue())
    personal_digest: Mapped[bytes] = mapped_column(LargeBinary(32))
    """SHA-256 over ``personal_salt``, ``ip``, ``user_agent`` and ``details``: what the chain hashes of them."""
    personal_salt: Mapped[bytes | None] = mapped_column(LargeBinary(16))
    """Dropped when the entry is pseudonymised, so its former personal fields cannot be guessed from the digest."""
    pseudonymised_by: Mapped[int | None] = mapped_column(BigInteger)
    """The ``seq`` of the chained erasure that replaced this entry's personal fields."""
