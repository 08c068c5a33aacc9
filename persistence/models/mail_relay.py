"""A tenant's own outbound mail relay: its notification and digest mail leave through this SMTP server."""

from __future__ import annotations

from sqlalchemy import CheckConstraint, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from persistence.base import AuditedModel, TenantScoped

RELAY_SECURITY = ("starttls", "starttls_required", "tls", "none")
"""``starttls``: upgrade when the server offers it; ``starttls_required``: upgrade or refuse to send;
``tls``: implicit TLS from the first byte (port 465); ``none``: clear text."""


class MailRelay(TenantScoped, AuditedModel):
    """The tenant's SMTP relay (at most one); its password is sealed with the keyring (purpose
    ``smtp:<tenant id>``, see :mod:`persistence.encryption`) and never leaves the server."""

    __tablename__ = "mail_relay"
    __table_args__ = (
        UniqueConstraint("tenant_id", name="uq_mail_relay_tenant_id"),
        CheckConstraint("port BETWEEN 1 AND 65535", name="port_range"),
        CheckConstraint(f"security IN {RELAY_SECURITY}", name="security_known"),
    )

    host: Mapped[str] = mapped_column(String(253))
    port: Mapped[int] = mapped_column(Integer)
    security: Mapped[str] = mapped_column(String(20))
    username: Mapped[str | None] = mapped_column(String(255))
    password_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    from_address: Mapped[str] = mapped_column(String(254))
    from_name: Mapped[str | None] = mapped_column(String(200))
