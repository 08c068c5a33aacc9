"""Public holidays: each tenant's calendar of days off, for the whole tenant, one region, or one workplace."""

from __future__ import annotations

from datetime import date
from uuid import UUID

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from persistence.base import AuditedModel, TenantScoped


class PublicHoliday(TenantScoped, AuditedModel):
    """A day off: for every workplace (neither ``region`` nor ``workplace_id``), for the workplaces of one
    region, or for one workplace."""

    __tablename__ = "public_holiday"
    __table_args__ = (
        CheckConstraint("region IS NULL OR workplace_id IS NULL", name="one_scope"),
        # NULLS NOT DISTINCT: one tenant-wide holiday per date too, not only one per region or workplace.
        Index(
            "uq_public_holiday_scope",
            "tenant_id",
            "day",
            "region",
            "workplace_id",
            unique=True,
            postgresql_nulls_not_distinct=True,
        ),
    )

    day: Mapped[date] = mapped_column(Date)
    name: Mapped[str] = mapped_column(String(200))
    region: Mapped[str | None] = mapped_column(String(100))
    """The region (as on workplaces) the holiday is kept in."""
    workplace_id: Mapped[UUID | None] = mapped_column(ForeignKey("workplace.id", ondelete="CASCADE"), index=True)
