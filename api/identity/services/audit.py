"""Reading the tenant's audit trail (written by :func:`api.audit.record`, never here)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from advanced_alchemy.filters import OnBeforeAfter, OrderBy
from advanced_alchemy.repository import SQLAlchemyAsyncRepository

from api.identity.services._base import IdentityService, equal_to
from persistence.models import AuditEvent


class AuditService(IdentityService[AuditEvent]):
    """Reads the tenant's audit trail (written by :func:`api.audit.record`, never here)."""

    class Repo(SQLAlchemyAsyncRepository[AuditEvent]):
        model_type = AuditEvent

    repository_type = Repo

    async def page(
        self,
        *,
        limit: int,
        offset: int,
        action: str | None = None,
        actor_user_id: UUID | None = None,
        since: datetime | None = None,
    ) -> tuple[Sequence[AuditEvent], int]:
        """One page of events, newest first; ``since`` is inclusive."""
        filters: list[Any] = equal_to(action=action, actor_user_id=actor_user_id)
        if since is not None:
            filters.append(OnBeforeAfter(field_name="occurred_at", on_or_before=None, on_or_after=since))
        order = [OrderBy("occurred_at", "desc"), OrderBy("id", "desc")]
        return await self.page_of(filters, limit=limit, offset=offset, order=order)
