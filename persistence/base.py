"""Declarative bases shared by every model, and the ``tenant_id`` column every tenant table carries."""

from __future__ import annotations

from uuid import UUID

from advanced_alchemy.base import UUIDv7AuditBase, UUIDv7Base
from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

__all__ = ["AuditedModel", "Model", "TenantScoped", "metadata", "tenant_tables"]

Model = UUIDv7Base
"""Base for append-only rows: a time-ordered UUID primary key."""

AuditedModel = UUIDv7AuditBase
"""Base for mutable rows: a time-ordered UUID primary key plus ``created_at`` / ``updated_at``."""

metadata = UUIDv7Base.metadata


class TenantScoped:
    """Mixin for a table guarded by row-level security on ``tenant_id``.

    Every model that mixes this in is listed by :func:`tenant_tables`, and the migrations give
    each such table ENABLE and FORCE row-level security with one policy on the current tenant.
    """

    @declared_attr
    @classmethod
    def tenant_id(cls) -> Mapped[UUID]:
        return mapped_column(ForeignKey("tenant.id", ondelete="CASCADE"), index=True, nullable=False)


def tenant_tables() -> list[str]:
    """Names of every table guarded by tenant row-level security, in metadata order."""
    scoped = {
        str(getattr(mapper.class_, "__tablename__", ""))
        for mapper in Model.registry.mappers
        if issubclass(mapper.class_, TenantScoped)
    }
    return [table.name for table in metadata.sorted_tables if table.name in scoped]
