"""Workplace rules: codes unique per tenant, valid time zones and hours, assignments with history, and a chat
channel whose members follow the current assignments. Every write is audited in the same transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any
from uuid import UUID

import msgspec
from advanced_alchemy.filters import OrderBy
from advanced_alchemy.repository import SQLAlchemyAsyncRepository
from sqlalchemy import exists, func, or_, select

from api.audit import Origin
from api.errors import AppError
from api.identity.services import check_timezone
from api.shifts.released import release_shifts
from api.workplaces.base import AuditsTarget, FieldService, changes, equal_to, matching, require_row, utc_now
from api.workplaces.geo import distance_sql
from channels.conversations import Conversations
from channels.effects import Effects
from persistence.models import AttendanceRecord, Department, Task, User, Workplace, WorkplaceAssignment

if TYPE_CHECKING:
    from api.auth.principal import CurrentUser
    from api.workplaces.schemas import AssignmentCreate, WorkplaceCreate, WorkplaceUpdate


def check_opening_hours(hours: dict[str, Any]) -> dict[str, list[list[str]]]:
    """The hours as stored (lists, not tuples); ``invalid_opening_hours`` (422) for an interval that
    does not end after it starts or overlaps another of the same day.

    Example: ``{"mon": [("08:00", "12:00"), ("14:00", "19:00")]}`` is fine; ``("12:00", "08:00")`` is not.
    """
    stored: dict[str, list[list[str]]] = {}
    for day, intervals in hours.items():
        ordered = sorted([str(start), str(end)] for start, end in intervals)
        for index, (start, end) in enumerate(ordered):
            overlaps = index > 0 and start < ordered[index - 1][1]
            if end <= start or overlaps:
                raise AppError(
                    "invalid_opening_hours",
                    "Each interval ends after it starts, and a day's intervals do not overlap.",
                    status_code=422,
                    details={"day": day, "interval": [start, end]},
                )
        stored[day] = ordered
    return stored


class WorkplaceService(FieldService[Workplace], AuditsTarget):
    """The tenant's workplaces. ``effects`` collects the chat channel's changes, applied after commit."""

    audit_target = "workplace"

    class Repo(SQLAlchemyAsyncRepository[Workplace]):
        model_type = Workplace

    repository_type = Repo

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.effects = Effects()

    async def page(
        self,
        *,
        limit: int,
        offset: int,
        search: str | None = None,
        region: str | None = None,
        department_id: UUID | None = None,
        status: str | None = None,
    ) -> tuple[Sequence[Workplace], int]:
        """One page of workplaces by name; ``search`` matches name or code, case-insensitively."""
        filters: list[Any] = [
            *equal_to(region=region, department_id=department_id, status=status),
            *matching(search, {"name", "code"}),
        ]
        return await self.page_of(filters, limit=limit, offset=offset, order=[OrderBy("name"), OrderBy("id")])

    async def near(
        self,
        *,
        latitude: float,
        longitude: float,
        within_m: float,
        limit: int,
        offset: int,
        search: str | None = None,
        status: str | None = None,
    ) -> tuple[list[tuple[Workplace, float]], int]:
        """Workplaces within ``within_m`` metres of a point, nearest first, each with its distance."""
        distance = distance_sql(Workplace.latitude, Workplace.longitude, latitude, longitude)
        conditions: list[Any] = [distance <= within_m]
        if status is not None:
            conditions.append(Workplace.status == status)
        if search:
            conditions.append(
                or_(
                    Workplace.name.icontains(search, autoescape=True), Workplace.code.icontains(search, autoescape=True)
                )
            )
        total = await self.session.scalar(select(func.count()).select_from(Workplace).where(*conditions)) or 0
        rows = await self.session.execute(
            select(Workplace, distance.label("distance"))
            .where(*conditions)
            .order_by(distance, Workplace.id)
            .limit(limit)
            .offset(offset)
        )
        return [(workplace, float(found)) for workplace, found in rows.tuples()], total

    async def create_workplace(self, data: WorkplaceCreate, *, actor: CurrentUser, origin: Origin) -> Workplace:
        """Add a workplace and its chat channel.

        Raises:
            AppError: ``invalid_timezone`` / ``invalid_opening_hours`` (422); ``not_found`` (404) for a
                department not in the tenant; ``conflict`` (409) for a code already used.
        """
        check_timezone(data.timezone)
        hours = check_opening_hours(msgspec.to_builtins(data.opening_hours))
        if data.department_id is not None:
            await require_row(self.session, Department, data.department_id, "department_id")
        fields = msgspec.structs.asdict(data) | {"opening_hours": hours}
        workplace = await self.create(Workplace(tenant_id=actor.tenant_id, **fields))
        await self._conversations(actor).ensure_workplace_channel(workplace.id, workplace.code)
        self._audit(actor, origin, "workplace.create", workplace.id, {"code": workplace.code})
        return workplace

    async def update_workplace(
        self, workplace_id: UUID, data: WorkplaceUpdate, *, actor: CurrentUser, origin: Origin
    ) -> Workplace:
        """Change a workplace; the same checks as on creation."""
        workplace = await self.get_for_update(workplace_id)
        fields = changes(data)
        if "timezone" in fields:
            check_timezone(fields["timezone"])
        if "opening_hours" in fields:
            fields["opening_hours"] = check_opening_hours(msgspec.to_builtins(fields["opening_hours"]))
        if fields.get("department_id") is not None:
            await require_row(self.session, Department, fields["department_id"], "department_id")
        changed = sorted(name for name, value in fields.items() if getattr(workplace, name) != value)
        for name in changed:
            setattr(workplace, name, fields[name])
        workplace = await self.update(workplace)
        if changed:
            self._audit(actor, origin, "workplace.update", workplace.id, {"fields": changed})
        return workplace

    async def delete_workplace(self, workplace_id: UUID, *, actor: CurrentUser, origin: Origin) -> None:
        """Delete a workplace nobody ever clocked in at and no task names; its channel loses its members.

        Raises:
            AppError: ``workplace_in_use`` (409): close it (``status: closed``) instead, keeping its history.
        """
        workplace = await self.get_for_update(workplace_id)
        attended = await self.session.scalar(select(exists().where(AttendanceRecord.workplace_id == workplace.id)))
        tasked = await self.session.scalar(select(exists().where(Task.workplace_id == workplace.id)))
        if attended or tasked:
            raise AppError(
                "workplace_in_use",
                "The workplace has attendance or tasks; set its status to closed instead.",
                status_code=409,
            )
        conversations = self._conversations(actor)
        await conversations.ensure_workplace_channel(workplace.id, workplace.code)
        await conversations.sync_workplace_members(workplace.id, [])
        await self.delete(workplace.id)
        self._audit(actor, origin, "workplace.delete", workplace.id, {"code": workplace.code})

    # -- assignments ---------------------------------------------------------------------------

    async def assignments(self, workplace_id: UUID, *, include_ended: bool) -> list[WorkplaceAssignment]:
        """The workplace's current assignments, or its whole history, oldest first."""
        await self.get(workplace_id)
        statement = select(WorkplaceAssignment).where(WorkplaceAssignment.workplace_id == workplace_id)
        if not include_ended:
            statement = statement.where(WorkplaceAssignment.ended_at.is_(None))
        rows = await self.session.scalars(statement.order_by(WorkplaceAssignment.started_at, WorkplaceAssignment.id))
        return list(rows.all())

    async def assign(
        self, workplace_id: UUID, data: AssignmentCreate, *, actor: CurrentUser, origin: Origin
    ) -> WorkplaceAssignment:
        """Assign an active user; they join the workplace's channel.

        Raises:
            AppError: ``not_found`` (404) for a user not in the tenant (or disabled);
                ``already_assigned`` (409) while a current assignment exists.
        """
        workplace = await self.get_for_update(workplace_id)
        await require_row(self.session, User, data.user_id, "user_id", status="active")
        current = await self._current(workplace.id, data.user_id)
        if current is not None:
            raise AppError(
                "already_assigned",
                "This person is already assigned here; end that assignment first.",
                status_code=409,
                details={"assignment_id": str(current.id)},
            )
        assignment = WorkplaceAssignment(
            tenant_id=actor.tenant_id,
            workplace_id=workplace.id,
            user_id=data.user_id,
            role=data.role,
            started_at=utc_now(),
            assigned_by=actor.id,
        )
        self.session.add(assignment)
        await self.session.flush()
        await self._sync_channel(workplace, actor)
        self._audit(actor, origin, "workplace.assign", workplace.id, {"user_id": str(data.user_id), "role": data.role})
        return assignment

    async def end_assignment(
        self, workplace_id: UUID, assignment_id: UUID, *, actor: CurrentUser, origin: Origin
    ) -> WorkplaceAssignment:
        """End a current assignment (kept as history); the person leaves the workplace's channel, and their shifts
        there that would start later are cancelled or cut short (:mod:`api.shifts.released`), in this transaction.

        Raises:
            AppError: ``not_found`` (404); ``assignment_ended`` (409) when it has already ended.
        """
        workplace = await self.get_for_update(workplace_id)
        assignment = await require_row(
            self.session, WorkplaceAssignment, assignment_id, "assignment_id", workplace_id=workplace.id
        )
        if assignment.ended_at is not None:
            raise AppError("assignment_ended", "This assignment has already ended.", status_code=409)
        assignment.ended_at = utc_now()
        assignment.ended_by = actor.id
        await self.session.flush()
        await self._sync_channel(workplace, actor)
        released = await release_shifts(self.session, assignment, workplace, actor=actor, origin=origin)
        self._audit(
            actor,
            origin,
            "workplace.unassign",
            workplace.id,
            {
                "user_id": str(assignment.user_id),
                "shifts_cancelled": [str(item) for item in released.cancelled],
                "shifts_shortened": [str(item) for item in released.shortened],
            },
        )
        result: WorkplaceAssignment = assignment
        return result

    async def _current(self, workplace_id: UUID, user_id: UUID) -> WorkplaceAssignment | None:
        current: WorkplaceAssignment | None = await self.session.scalar(
            select(WorkplaceAssignment).where(
                WorkplaceAssignment.workplace_id == workplace_id,
                WorkplaceAssignment.user_id == user_id,
                WorkplaceAssignment.ended_at.is_(None),
            )
        )
        return current

    async def _sync_channel(self, workplace: Workplace, actor: CurrentUser) -> None:
        """Make the channel's members exactly the currently assigned people."""
        assigned = await self.session.scalars(
            select(WorkplaceAssignment.user_id).where(
                WorkplaceAssignment.workplace_id == workplace.id, WorkplaceAssignment.ended_at.is_(None)
            )
        )
        conversations = self._conversations(actor)
        await conversations.ensure_workplace_channel(workplace.id, workplace.code)
        await conversations.sync_workplace_members(workplace.id, assigned.all())

    def _conversations(self, actor: CurrentUser) -> Conversations:
        return Conversations(session=self.session, tenant_id=actor.tenant_id, user_id=actor.id, effects=self.effects)
