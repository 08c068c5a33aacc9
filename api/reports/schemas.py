"""Wire types of the reports API: the template catalogue, a report's rows, schedules and their runs."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

import msgspec

from api.reports.query import ReportParams
from api.schemas import RequestBody, ResponseBody
from persistence.models import ReportRun, ReportSchedule

__all__ = [
    "ReportResult",
    "RunResponse",
    "ScheduleCreate",
    "ScheduleResponse",
    "TemplateInfo",
    "run_response",
    "schedule_response",
]


class TemplateInfo(ResponseBody):
    """A built-in report and the parameters it takes (``from``/``to`` are local days, both included)."""

    key: str
    title: str
    description: str
    parameters: list[str]


class ReportResult(ResponseBody):
    """A report's rows, each an object keyed by the column names."""

    template: str
    timezone: str
    start: date = msgspec.field(name="from")
    end: date = msgspec.field(name="to")
    columns: list[str]
    rows: list[dict[str, Any]]


class ScheduleCreate(RequestBody):
    """A report to run on a cron schedule (five fields, in the tenant's time zone) and mail as CSV.

    ``params`` are the report's parameters; without ``from``/``to`` each run covers the 30 local days up
    to the day it runs."""

    name: str
    template: str
    cron: str
    recipients: list[str]
    params: ReportParams = msgspec.field(default_factory=ReportParams)


class ScheduleResponse(ResponseBody):
    id: UUID
    name: str
    template: str
    cron: str
    timezone: str
    recipients: list[str]
    params: dict[str, Any]
    owner_id: UUID
    active: bool
    created_at: datetime
    next_run_at: datetime | None = None


class RunResponse(ResponseBody):
    """One run of a schedule; ``download`` is a signed link to its CSV once it succeeded."""

    id: UUID
    schedule_id: UUID
    due_at: datetime
    status: str
    row_count: int | None = None
    error: str | None = None
    finished_at: datetime | None = None
    download: str | None = None


def schedule_response(schedule: ReportSchedule, next_run_at: datetime | None) -> ScheduleResponse:
    return ScheduleResponse(
        id=schedule.id,
        name=schedule.name,
        template=schedule.template,
        cron=schedule.cron,
        timezone=schedule.timezone,
        recipients=list(schedule.recipients),
        params=schedule.params,
        owner_id=schedule.owner_id,
        active=schedule.active,
        created_at=schedule.created_at,
        next_run_at=next_run_at,
    )


def run_response(run: ReportRun, download: str | None) -> RunResponse:
    return RunResponse(
        id=run.id,
        schedule_id=run.schedule_id,
        due_at=run.due_at,
        status=run.status,
        row_count=run.row_count,
        error=run.error,
        finished_at=run.finished_at,
        download=download if run.status == "succeeded" else None,
    )
