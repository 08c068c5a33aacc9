"""Safety incidents: report, list (everyone's, or one's own reports), read with photos and history, take the
next lifecycle step, and download a photo."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from litestar import Controller, get, post
from litestar.params import JSONBody, PathParameter, QueryParameter
from litestar.response import Stream

from api.auth.guards import requires
from api.auth.permissions import Permission
from api.chat.uploads import FileStorageDep, file_download, file_storage
from api.deps import CallerDep, Limit, Offset, OriginDep
from api.incidents import deps
from api.incidents.deps import IncidentId, IncidentsDep
from api.incidents.schemas import (
    IncidentCreate,
    IncidentDetail,
    IncidentResponse,
    IncidentStatus,
    IncidentStatusChange,
    Severity,
    incident_response,
)
from api.schemas import Page

StatusFilter = Annotated[IncidentStatus | None, QueryParameter(description="Only incidents in this status.")]
SeverityFilter = Annotated[Severity | None, QueryParameter(description="Only incidents of this severity.")]
TypeFilter = Annotated[str | None, QueryParameter(max_length=50, description="Only incidents of this type.")]
WorkplaceFilter = Annotated[UUID | None, QueryParameter(description="Only incidents at this workplace.")]
PhotoId = Annotated[UUID, PathParameter(description="The photo's file id.")]


class IncidentController(Controller):
    path = "/api/v1/incidents"
    tags = ["incidents"]
    dependencies = {"incidents": deps.incidents, "file_storage": file_storage}

    @get("/", operation_id="ListIncidents", guards=[requires(Permission.INCIDENTS_READ)])
    async def list_incidents(
        self,
        incidents: IncidentsDep,
        status: StatusFilter = None,
        severity: SeverityFilter = None,
        type: TypeFilter = None,
        workplace_id: WorkplaceFilter = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> Page[IncidentResponse]:
        """The tenant's incidents, the most recent first."""
        rows, total = await incidents.page(
            limit=limit, offset=offset, status=status, severity=severity, type=type, workplace_id=workplace_id
        )
        return Page(items=[incident_response(i) for i in rows], total=total, limit=limit, offset=offset)

    @get("/mine", operation_id="ListMyIncidents", guards=[requires(Permission.INCIDENTS_REPORT)])
    async def my_incidents(
        self,
        incidents: IncidentsDep,
        current_user: CallerDep,
        status: StatusFilter = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> Page[IncidentResponse]:
        """The incidents the caller reported, the most recent first."""
        rows, total = await incidents.page(limit=limit, offset=offset, status=status, reported_by=current_user.id)
        return Page(items=[incident_response(i) for i in rows], total=total, limit=limit, offset=offset)

    @get("/{incident_id:uuid}", operation_id="GetIncident", guards=[requires(Permission.INCIDENTS_READ)])
    async def get_incident(self, incidents: IncidentsDep, incident_id: IncidentId) -> IncidentDetail:
        """One incident with its photos, the people involved and every step so far (``404 not_found``)."""
        return await incidents.detail(await incidents.get(incident_id))

    @post("/", operation_id="ReportIncident", status_code=201, guards=[requires(Permission.INCIDENTS_REPORT)])
    async def report(
        self, data: JSONBody[IncidentCreate], incidents: IncidentsDep, current_user: CallerDep, origin: OriginDep
    ) -> IncidentDetail:
        """Report an incident; the workplace's supervisors and the safety role are notified (category
        ``safety``) in the same transaction, a ``critical`` one at once whatever their quiet hours.

        Errors: ``422 location_required`` (neither a workplace nor a point), ``422 invalid_point``,
        ``422 naive_datetime`` / ``422 in_future`` for ``occurred_at``, ``404 not_found`` for a workplace,
        person or photo not in the tenant (or a photo uploaded by someone else), ``422 invalid_photo`` for a
        file that is not an image, ``409 photo_in_use`` for an upload shared in chat or on another incident.
        """
        return await incidents.detail(await incidents.report(data, actor=current_user, origin=origin))

    @post(
        "/{incident_id:uuid}/status",
        operation_id="ChangeIncidentStatus",
        status_code=200,
        guards=[requires(Permission.INCIDENTS_MANAGE)],
    )
    async def change_status(
        self,
        incident_id: IncidentId,
        data: JSONBody[IncidentStatusChange],
        incidents: IncidentsDep,
        current_user: CallerDep,
        origin: OriginDep,
    ) -> IncidentDetail:
        """Take the next step with a note: open -> investigating -> corrective_action -> closed, timestamped and
        audited (``409 invalid_transition`` naming the allowed steps)."""
        incident = await incidents.change_status(incident_id, data, actor=current_user, origin=origin)
        return await incidents.detail(incident)

    @get(
        "/{incident_id:uuid}/photos/{photo_id:uuid}/content",
        operation_id="DownloadIncidentPhoto",
        guards=[requires(Permission.INCIDENTS_READ)],
    )
    async def photo(
        self, incidents: IncidentsDep, file_storage: FileStorageDep, incident_id: IncidentId, photo_id: PhotoId
    ) -> Stream:
        """A photo of the incident, inline (``404 not_found`` for a file that is not one of its photos)."""
        attachment = await incidents.photo(incident_id, photo_id)
        return await file_download(file_storage, attachment, inline=True)
