"""Providers of the workplace service, one per request, and publishing its chat changes after commit."""

from __future__ import annotations

from litestar.di import NamedDependency

from api.deps import per_request
from api.runtime import Runtime
from api.workplaces.services import WorkplaceService

workplaces = per_request(WorkplaceService)

WorkplacesDep = NamedDependency[WorkplaceService]
"""The request's workplace service (``workplaces`` parameter)."""


async def commit_and_publish(runtime: Runtime, service: WorkplaceService) -> None:
    """Commit the request's change, then move channel subscriptions and publish its events (never before)."""
    await service.session.commit()
    if runtime.hub is not None:
        await service.effects.apply(runtime.hub)
