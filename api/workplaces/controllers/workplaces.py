"""Workplaces: list and search (by name, code or distance from a point), read, create, change, delete."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from litestar import Controller, delete, get, patch, post
from litestar.params import JSONBody, PathParameter, QueryParameter

from api.auth.guards import requires
from api.auth.permissions import Permission
from api.deps import CallerDep, Limit, Offset, OriginDep, RuntimeDep, Search
from api.errors import AppError
from api.schemas import Page
from api.workplaces import deps
from api.workplaces.deps import WorkplacesDep, commit_and_publish
from api.workplaces.schemas import (
    WorkplaceCreate,
    WorkplaceResponse,
    WorkplaceStatus,
    WorkplaceUpdate,
    workplace_response,
)

WorkplaceId = Annotated[UUID, PathParameter(description="The workplace's id.")]


class WorkplaceController(Controller):
    path = "/api/v1/workplaces"
    tags = ["workplaces"]
    dependencies = {"workplaces": deps.workplaces}

    @get("/", operation_id="ListWorkplaces", guards=[requires(Permission.WORKPLACES_READ)])
    async def list_workplaces(
        self,
        workplaces: WorkplacesDep,
        q: Search = None,
        region: Annotated[str | None, QueryParameter(max_length=100, description="Only this region.")] = None,
        department_id: Annotated[UUID | None, QueryParameter(description="Only this department's.")] = None,
        status: Annotated[WorkplaceStatus | None, QueryParameter(description="Only in this status.")] = None,
        near_lat: Annotated[
            float | None, QueryParameter(ge=-90, le=90, description="Search around this latitude (with near_lon).")
        ] = None,
        near_lon: Annotated[
            float | None, QueryParameter(ge=-180, le=180, description="Search around this longitude (with near_lat).")
        ] = None,
        within_m: Annotated[
            float, QueryParameter(gt=0, le=1_000_000, description="Radius of the search around the point, metres.")
        ] = 5_000,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> Page[WorkplaceResponse]:
        """Workplaces by name; ``q`` matches name or code. With ``near_lat`` and ``near_lon``, only those
        within ``within_m`` metres, nearest first, each with its ``distance_m`` (``422 invalid_point`` for
        only one of the two)."""
        if (near_lat is None) != (near_lon is None):
            raise AppError("invalid_point", "Give both near_lat and near_lon, or neither.", status_code=422)
        if near_lat is not None and near_lon is not None:
            found, total = await workplaces.near(
                latitude=near_lat,
                longitude=near_lon,
                within_m=within_m,
                limit=limit,
                offset=offset,
                search=q,
                status=status,
            )
            items = [workplace_response(w, distance) for w, distance in found]
            return Page(items=items, total=total, limit=limit, offset=offset)
        rows, total = await workplaces.page(
            limit=limit, offset=offset, search=q, region=region, department_id=department_id, status=status
        )
        return Page(items=[workplace_response(w) for w in rows], total=total, limit=limit, offset=offset)

    @get("/{workplace_id:uuid}", operation_id="GetWorkplace", guards=[requires(Permission.WORKPLACES_READ)])
    async def get_workplace(self, workplaces: WorkplacesDep, workplace_id: WorkplaceId) -> WorkplaceResponse:
        """One workplace."""
        return workplace_response(await workplaces.get(workplace_id))

    @post("/", operation_id="CreateWorkplace", status_code=201, guards=[requires(Permission.WORKPLACES_WRITE)])
    async def create_workplace(
        self,
        data: JSONBody[WorkplaceCreate],
        workplaces: WorkplacesDep,
        runtime: RuntimeDep,
        current_user: CallerDep,
        origin: OriginDep,
    ) -> WorkplaceResponse:
        """Add a workplace and its chat channel (``409 conflict`` for a code in use, ``422 invalid_timezone``,
        ``422 invalid_opening_hours``, ``404`` for a department not in the tenant)."""
        workplace = await workplaces.create_workplace(data, actor=current_user, origin=origin)
        await commit_and_publish(runtime, workplaces)
        return workplace_response(workplace)

    @patch("/{workplace_id:uuid}", operation_id="UpdateWorkplace", guards=[requires(Permission.WORKPLACES_WRITE)])
    async def update_workplace(
        self,
        workplace_id: WorkplaceId,
        data: JSONBody[WorkplaceUpdate],
        workplaces: WorkplacesDep,
        current_user: CallerDep,
        origin: OriginDep,
    ) -> WorkplaceResponse:
        """Change a workplace; the same checks as on creation."""
        return workplace_response(
            await workplaces.update_workplace(workplace_id, data, actor=current_user, origin=origin)
        )

    @delete(
        "/{workplace_id:uuid}",
        operation_id="DeleteWorkplace",
        status_code=204,
        guards=[requires(Permission.WORKPLACES_WRITE)],
    )
    async def delete_workplace(
        self,
        workplace_id: WorkplaceId,
        workplaces: WorkplacesDep,
        runtime: RuntimeDep,
        current_user: CallerDep,
        origin: OriginDep,
    ) -> None:
        """Delete a workplace without attendance or tasks (``409 workplace_in_use``: close it instead)."""
        await workplaces.delete_workplace(workplace_id, actor=current_user, origin=origin)
        await commit_and_publish(runtime, workplaces)
