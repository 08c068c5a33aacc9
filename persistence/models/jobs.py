"""The durable job queue's table: work that must happen after a commit (send an email, a push, a digest)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from advanced_alchemy.types import DateTimeUTC
from sqlalchemy import Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from persistence.base import AuditedModel, TenantScoped
from persistence.models.notifications import unindexed_tenant


class Job(TenantScoped, AuditedModel):
    """One unit of deferred work, written in the same transaction as the change that causes it.

    ``status`` moves queued → running → done, or back to queued with a later ``run_at`` after a
    failure, or to dead once ``max_attempts`` is spent. A running job whose lease (``locked_until``)
    has passed belonged to a worker that died and is claimed again. ``finished_at`` is set exactly
    when the job is done or dead.

    A claim is a heap-only (HOT) update: no column it changes is indexed or in an index predicate
    (hence ``finished_at IS NULL`` rather than ``status``), and pages keep 30 % free for the new row
    version (``fillfactor`` 70, set by migration 0014d).
    """

    __tablename__ = "job"
    __table_args__ = (
        UniqueConstraint("kind", "idempotency_key", "tenant_id"),
        Index("ix_job_claimable", "run_at", postgresql_where=text("finished_at IS NULL")),
    )

    tenant_id: Mapped[UUID] = unindexed_tenant()
    """Last in the unique key, for the same reason."""

    kind: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB)
    status: Mapped[str] = mapped_column(String(16), default="queued")
    run_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=8)
    locked_until: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    last_error: Mapped[str | None] = mapped_column(Text)
    finished_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    idempotency_key: Mapped[str | None] = mapped_column(String(200))
