"""Safety incident tables: the report, its photos and the people involved, and each step of its lifecycle.

A photo is an upload of the attachment storage that no message shares; the link here keeps it from
the orphan sweep, and one upload illustrates at most one incident.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from advanced_alchemy.types import DateTimeUTC
from sqlalchemy import CheckConstraint, Float, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from persistence.base import AuditedModel, TenantScoped


class Incident(TenantScoped, AuditedModel):
    """A safety incident reported from the field, and where its handling stands."""

    __tablename__ = "incident"
    __table_args__ = (
        CheckConstraint("(latitude IS NULL) = (longitude IS NULL)", name="point_complete"),
        # The board lists the incidents still open.
        Index("ix_incident_open", "tenant_id", "occurred_at", postgresql_where=text("status <> 'closed'")),
        Index("ix_incident_workplace_status", "workplace_id", "status"),
    )

    type: Mapped[str] = mapped_column(String(50))
    severity: Mapped[str] = mapped_column(String(16))
    description: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(24), default="open")
    workplace_id: Mapped[UUID | None] = mapped_column(ForeignKey("workplace.id", ondelete="RESTRICT"))
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    reported_by: Mapped[UUID | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"), index=True)
    occurred_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))


class IncidentPhoto(TenantScoped, AuditedModel):
    """A photo of an incident, kept in the attachment storage."""

    __tablename__ = "incident_photo"
    __table_args__ = (UniqueConstraint("attachment_id", name="uq_incident_photo_attachment"),)

    incident_id: Mapped[UUID] = mapped_column(ForeignKey("incident.id", ondelete="CASCADE"), index=True)
    attachment_id: Mapped[UUID] = mapped_column(ForeignKey("attachment.id", ondelete="CASCADE"))


class IncidentPerson(TenantScoped, AuditedModel):
    """A person involved in an incident (hurt, witness, or the one who caused it)."""

    __tablename__ = "incident_person"
    __table_args__ = (UniqueConstraint("incident_id", "user_id", name="uq_incident_person"),)

    incident_id: Mapped[UUID] = mapped_column(ForeignKey("incident.id", ondelete="CASCADE"))
    user_id: Mapped[UUID] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), index=True)


class IncidentStep(TenantScoped, AuditedModel):
    """One step of an incident's lifecycle: from which status to which, who, when and why (the first is the report)."""

    __tablename__ = "incident_step"
    __table_args__ = (Index("ix_incident_step_incident_at", "incident_id", "at"),)

    incident_id: Mapped[UUID] = mapped_column(ForeignKey("incident.id", ondelete="CASCADE"))
    from_status: Mapped[str | None] = mapped_column(String(24))
    to_status: Mapped[str] = mapped_column(String(24))
    note: Mapped[str] = mapped_column(String(2000), default="")
    actor_id: Mapped[UUID | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))
    at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
