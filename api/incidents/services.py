"""Incident rules: where and who must be of the tenant, photos are the reporter's own unshared images, the
supervisors and the safety role are alerted in the same transaction, and the lifecycle moves only forward
along its allowed steps, each kept with its note and audited.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Final
from uuid import UUID

import msgspec
from advanced_alchemy.filters import OrderBy
from advanced_alchemy.repository import SQLAlchemyAsyncRepository
from sqlalchemy import select

from api.audit import Origin
from api.errors import AppError
from api.incidents.board import publish_change
from api.incidents.schemas import IncidentDetail, incident_response, step_response
from api.workplaces.audience import workplace_supervisors
from api.workplaces.base import (
    AuditsTarget,
    FieldService,
    equal_to,
    require_aware,
    require_not_future,
    require_row,
    utc_now,
)
from delivery.notify import Priority, Recipients, notify
from persistence.models import Attachment, Incident, IncidentPerson, IncidentPhoto, IncidentStep, Role, User, Workplace

if TYPE_CHECKING:
    from datetime import datetime

    from api.auth.principal import CurrentUser
    from api.incidents.schemas import IncidentCreate, IncidentStatusChange

SAFETY_ROLE: Final = "safety"
# A device's clock may run a little ahead of the server's.
CLOCK_SKEW: Final = timedelta(minutes=5)
NEXT_STEPS: Final[dict[str, tuple[str, ...]]] = {
    "open": ("investigating",),
    "investigating": ("corrective_action", "closed"),
    "corrective_action": ("investigating", "closed"),
    "closed": (),
}
NOTIFY_PRIORITY: Final[dict[str, Priority]] = {
    "low": "low",
    "medium": "normal",
    "high": "high",
    "critical": "critical",
}


class IncidentService(FieldService[Incident], AuditsTarget):
    """The tenant's safety incidents."""

    audit_target = "incident"

    class Repo(SQLAlchemyAsyncRepository[Incident]):
        model_type = Incident

    repository_type = Repo

    async def page(
        self,
        *,
        limit: int,
        offset: int,
        status: str | None = None,
        severity: str | None = None,
        type: str | None = None,
        workplace_id: UUID | None = None,
        reported_by: UUID | None = None,
    ) -> tuple[Sequence[Incident], int]:
        """One page of incidents, the most recent first."""
        filters: list[Any] = equal_to(
            status=status, severity=severity, type=type, workplace_id=workplace_id, reported_by=reported_by
        )
        order = [OrderBy("occurred_at", "desc"), OrderBy("id", "desc")]
        return await self.page_of(filters, limit=limit, offset=offset, order=order)

    async def detail(self, incident: Incident) -> IncidentDetail:
        """The incident with its photos, people involved and steps."""
        photos = await self.session.scalars(
            select(IncidentPhoto.attachment_id)
            .where(IncidentPhoto.incident_id == incident.id)
            .order_by(IncidentPhoto.id)
        )
        people = await self.session.scalars(
            select(IncidentPerson.user_id)
            .where(IncidentPerson.incident_id == incident.id)
            .order_by(IncidentPerson.user_id)
        )
        steps = await self.session.scalars(
            select(IncidentStep)
            .where(IncidentStep.incident_id == incident.id)
            .order_by(IncidentStep.at, IncidentStep.id)
        )
        return IncidentDetail(
            **msgspec.structs.asdict(incident_response(incident)),
            photo_ids=list(photos.all()),
            people_involved=list(people.all()),
            history=[step_response(s) for s in steps],
        )

    async def photo(self, incident_id: UUID, photo_id: UUID) -> Attachment:
        """The photo ``photo_id`` of the incident; ``not_found`` (404) for any other file."""
        await self.get(incident_id)
        attachment: Attachment | None = await self.session.scalar(
            select(Attachment)
            .join(IncidentPhoto, IncidentPhoto.attachment_id == Attachment.id)
            .where(IncidentPhoto.incident_id == incident_id, Attachment.id == photo_id)
        )
        if attachment is None:
            raise AppError("not_found", "No such photo of this incident.", status_code=404)
        return attachment

    async def report(self, data: IncidentCreate, *, actor: CurrentUser, origin: Origin) -> Incident:
        """Record an incident with its photos and people, alert the workplace's supervisors and the safety role.

        Raises:
            AppError: ``location_required`` / ``invalid_point`` / ``naive_datetime`` / ``in_future`` (422);
                ``not_found`` (404) for a workplace, person or photo not in the tenant (or a photo that is
                not the reporter's); ``invalid_photo`` (422) for a file that is not an image;
                ``photo_in_use`` (409) for a file already shared in chat or on another incident.
        """
        if (data.latitude is None) != (data.longitude is None):
            raise AppError("invalid_point", "Give both latitude and longitude, or neither.", status_code=422)
        if data.workplace_id is None and data.latitude is None:
            raise AppError(
                "location_required", "Say where it happened: a workplace, a point, or both.", status_code=422
            )
        now = utc_now()
        occurred_at = now
        if data.occurred_at is not None:
            occurred_at = require_aware(data.occurred_at, "occurred_at")
            require_not_future(occurred_at, "occurred_at", skew=CLOCK_SKEW)
        if data.workplace_id is not None:
            await require_row(self.session, Workplace, data.workplace_id, "workplace_id")
        people = list(dict.fromkeys(data.people_involved))
        for user_id in people:
            await require_row(self.session, User, user_id, "people_involved")
        photos = await self._claimable_photos(list(dict.fromkeys(data.photo_ids)), actor)
        incident = await self.create(
            Incident(
                tenant_id=actor.tenant_id,
                type=data.type,
                severity=data.severity,
                description=data.description,
                status="open",
                workplace_id=data.workplace_id,
                latitude=data.latitude,
                longitude=data.longitude,
                reported_by=actor.id,
                occurred_at=occurred_at,
            )
        )
        self.session.add_all(
            IncidentPhoto(tenant_id=actor.tenant_id, incident_id=incident.id, attachment_id=p.id) for p in photos
        )
        self.session.add_all(
            IncidentPerson(tenant_id=actor.tenant_id, incident_id=incident.id, user_id=u) for u in people
        )
        self._add_step(incident, actor, None, "", now)
        await self.session.flush()
        self._audit(actor, origin, "incident.report", incident.id, {"severity": incident.severity})
        await self._alert(incident, actor)
        publish_change(self.session, incident, "reported")
        return incident

    async def change_status(
        self, incident_id: UUID, data: IncidentStatusChange, *, actor: CurrentUser, origin: Origin
    ) -> Incident:
        """Take the incident's next step, timestamped, with its note.

        Raises:
            AppError: ``invalid_transition`` (409, naming the allowed next steps).
        """
        incident = await self.get_for_update(incident_id)
        allowed = NEXT_STEPS[incident.status]
        if data.status not in allowed:
            raise AppError(
                "invalid_transition",
                f"An incident {incident.status!r} cannot move to {data.status!r}.",
                status_code=409,
                details={"from": incident.status, "to": data.status, "allowed": list(allowed)},
            )
        now = utc_now()
        previous, incident.status = incident.status, data.status
        incident.closed_at = now if data.status == "closed" else None
        incident = await self.update(incident)
        self._add_step(incident, actor, previous, data.note, now)
        self._audit(
            actor, origin, "incident.status", incident.id, {"from": previous, "to": data.status, "note": data.note}
        )
        publish_change(self.session, incident, "status")
        return incident

    async def _claimable_photos(self, photo_ids: list[UUID], actor: CurrentUser) -> list[Attachment]:
        """The reporter's unshared image uploads, locked so the orphan sweep cannot take them meanwhile."""
        if not photo_ids:
            return []
        rows = await self.session.scalars(
            select(Attachment).where(Attachment.id.in_(photo_ids)).order_by(Attachment.id).with_for_update()
        )
        found = {row.id: row for row in rows}
        taken = set(
            (
                await self.session.scalars(
                    select(IncidentPhoto.attachment_id).where(IncidentPhoto.attachment_id.in_(photo_ids))
                )
            ).all()
        )
        for photo_id in photo_ids:
            photo = found.get(photo_id)
            # Someone else's upload is as invisible as another tenant's: uploads are private until shared.
            if photo is None or photo.uploader_id != actor.id:
                raise AppError(
                    "not_found",
                    "No upload of yours with this id.",
                    status_code=404,
                    details={"photo_id": str(photo_id)},
                )
            if not photo.content_type.startswith("image/"):
                raise AppError(
                    "invalid_photo",
                    "A photo must be an image.",
                    status_code=422,
                    details={"photo_id": str(photo_id), "content_type": photo.content_type},
                )
            if photo.message_id is not None or photo_id in taken:
                raise AppError(
                    "photo_in_use",
                    "This upload is already shared in chat or on another incident.",
                    status_code=409,
                    details={"photo_id": str(photo_id)},
                )
        return [found[photo_id] for photo_id in photo_ids]

    async def _alert(self, incident: Incident, actor: CurrentUser) -> None:
        """Notify the workplace's supervisors and the safety role; a critical incident goes out at once,
        through quiet hours and mutes (category ``safety``)."""
        supervisors = await workplace_supervisors(self.session, incident.workplace_id) if incident.workplace_id else []
        safety = await self.session.scalar(select(Role.id).where(Role.name == SAFETY_ROLE))
        place = f" at workplace {incident.workplace_id}" if incident.workplace_id else ""
        await notify(
            self.session,
            tenant_id=actor.tenant_id,
            recipients=Recipients(users=supervisors, roles=[SAFETY_ROLE] if safety else []),
            category="safety",
            title=f"{incident.severity.capitalize()} incident: {incident.type}"[:200],
            body=f"{incident.description[:3800]} (reported{place}, {incident.occurred_at.isoformat()})",
            priority=NOTIFY_PRIORITY[incident.severity],
            link=f"/incidents/{incident.id}",
            data={"incident_id": str(incident.id), "severity": incident.severity},
            idempotency_key=f"incident.reported:{incident.id}",
        )

    def _add_step(
        self, incident: Incident, actor: CurrentUser, from_status: str | None, note: str, at: datetime
    ) -> None:
        self.session.add(
            IncidentStep(
                tenant_id=actor.tenant_id,
                incident_id=incident.id,
                from_status=from_status,
                to_status=incident.status,
                note=note,
                actor_id=actor.id,
                at=at,
            )
        )
