"""Dependencies shared by every controller: the runtime, the caller, and the request's unit of work."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any, TypeVar
from uuid import UUID

from advanced_alchemy.service import SQLAlchemyAsyncRepositoryService
from litestar import Request
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.params import QueryParameter
from sqlalchemy.ext.asyncio import AsyncSession

from api.audit import Origin
from api.auth.principal import CurrentUser
from api.runtime import Runtime
from persistence.prepared import DriverTransaction

RuntimeDep = NamedDependency[Runtime]
"""The process's runtime (``runtime`` parameter)."""
CallerDep = NamedDependency[CurrentUser]
"""The signed-in user (``current_user`` parameter)."""
OriginDep = NamedDependency[Origin]
"""Where the request came from, for the audit trail (``origin`` parameter)."""
DbSession = NamedDependency[AsyncSession]
"""The request's unit of work, as the caller's tenant (``db_session`` parameter)."""
DbDriver = NamedDependency[DriverTransaction]
"""The request's transaction for routes whose statements are all prepared, without a Session, as the caller's
tenant (``db_driver`` parameter)."""
ReadSession = NamedDependency[AsyncSession]
"""A read-only unit of work that may run on the read replica (``read_session`` parameter)."""


ServiceT = TypeVar("ServiceT", bound=SQLAlchemyAsyncRepositoryService[Any])

Limit = Annotated[int, QueryParameter(ge=1, le=200, description="Items per page (1 to 200).")]
Offset = Annotated[int, QueryParameter(ge=0, description="Items to skip from the start of the list.")]
OptionalId = Annotated[UUID | None, QueryParameter(description="Only items with this id.")]
Search = Annotated[str | None, QueryParameter(max_length=200, description="Case-insensitive text to look for.")]


def per_request(service_type: type[ServiceT]) -> Provide:
    """A provider of ``service_type`` built on the request's session, so on its transaction and as its tenant.

    Args:
        service_type: an advanced-alchemy service whose constructor takes ``session``.

    Returns:
        The provider, to name in a controller's ``dependencies``.
    """

    def provide(db_session: DbSession) -> ServiceT:
        return service_type(session=db_session)

    return Provide(provide, sync_to_thread=False)


def provide_runtime(state: State) -> Runtime:
    runtime: Runtime = state.runtime
    return runtime


def provide_current_user(request: Request[CurrentUser, Any, Any]) -> CurrentUser:
    return request.user


def provide_origin(request: Request[Any, Any, Any]) -> Origin:
    return Origin.of(request)


async def provide_db_session(
    request: Request[CurrentUser, Any, Any], runtime: RuntimeDep
) -> AsyncIterator[AsyncSession]:
    """One transaction per request, as the caller's tenant: committed before the response is sent,
    rolled back if the handler raises."""
    tenant_id = request.user.tenant_id if request.scope.get("user") else None
    async with runtime.db.transaction(tenant_id=tenant_id) as session:
        yield session


async def provide_db_driver(
    request: Request[CurrentUser, Any, Any], runtime: RuntimeDep
) -> AsyncIterator[DriverTransaction]:
    """One transaction per request, as the caller's tenant, for :class:`~persistence.prepared.Prepared`
    statements only: what a Session costs per transaction is not spent on a route that needs none of it."""
    tenant_id = request.user.tenant_id if request.scope.get("user") else None
    async with runtime.db.driver_transaction(tenant_id=tenant_id) as transaction:
        yield transaction


async def provide_read_session(current_user: CallerDep, runtime: RuntimeDep) -> AsyncIterator[AsyncSession]:
    """A read-only transaction as the caller's tenant for history, search and reports: on the read
    replica while it is fresh and the caller has not just written, else on the primary."""
    recent_write = runtime.recent_writes.check(current_user.tenant_id, current_user.id)
    async with runtime.reads.transaction(tenant_id=current_user.tenant_id, recent_write=recent_write) as session:
        yield session


dependencies = {
    "runtime": Provide(provide_runtime, sync_to_thread=False),
    "current_user": Provide(provide_current_user, sync_to_thread=False),
    "origin": Provide(provide_origin, sync_to_thread=False),
    "db_session": Provide(provide_db_session),
    "db_driver": Provide(provide_db_driver),
    "read_session": Provide(provide_read_session),
}
