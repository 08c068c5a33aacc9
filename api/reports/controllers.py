"""Reports: the template catalogue, a report as JSON or streamed CSV, schedules, their runs, and the signed
download of a run's CSV."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from litestar import Controller, Response, delete, get, post
from litestar.di import NamedDependency
from litestar.params import JSONBody, PathParameter, QueryParameter
from litestar.response import Stream

from api.auth.guards import requires
from api.auth.permissions import Permission
from api.deps import CallerDep, Limit, Offset, OriginDep, ReadSession, RuntimeDep, per_request
from api.errors import AppError
from api.reports import output
from api.reports.links import download_link, read_link
from api.reports.query import ReportParams
from api.reports.schemas import (
    ReportResult,
    RunResponse,
    ScheduleCreate,
    ScheduleResponse,
    TemplateInfo,
    run_response,
    schedule_response,
)
from api.reports.services import ScheduleService, next_run, prepare
from api.reports.templates import TEMPLATES
from persistence.models import ReportRun, ReportSchedule

ScheduleId = Annotated[UUID, PathParameter(description="The schedule's id.")]
TemplateKey = Annotated[
    str, PathParameter(max_length=80, description="The template's key; ending in .csv asks for CSV.")
]
FromDay = Annotated[
    date | None, QueryParameter(name="from", description="First local day (default: 29 days before 'to').")
]
ToDay = Annotated[date | None, QueryParameter(name="to", description="Last local day, included (default: today).")]
DepartmentFilter = Annotated[UUID | None, QueryParameter(description="Only people of this department.")]
WorkplaceFilter = Annotated[UUID | None, QueryParameter(description="Only this workplace.")]
UserFilter = Annotated[UUID | None, QueryParameter(description="Only this person.")]
Format = Annotated[Literal["json", "csv"], QueryParameter(description="json (default) or csv.")]
SchedulesDep = NamedDependency[ScheduleService]
"""The request's schedule service (``schedules`` parameter)."""
Token = Annotated[str, PathParameter(max_length=512, description="The signed token of the link.")]
CSV_TYPE = "text/csv; charset=utf-8"


def _csv(body: Any, filename: str) -> Stream:
    return Stream(body, media_type=CSV_TYPE, headers={"Content-Disposition": f'attachment; filename="{filename}"'})


class ReportController(Controller):
    path = "/api/v1/reports"
    tags = ["reports"]
    dependencies = {"schedules": per_request(ScheduleService)}

    @get("/", operation_id="ListReports", guards=[requires(Permission.REPORTS_READ)])
    async def list_reports(self) -> list[TemplateInfo]:
        """The built-in templates and the parameters each takes (``from``/``to`` always)."""
        return [
            TemplateInfo(key=t.key, title=t.title, description=t.description, parameters=["from", "to", *t.filters])
            for t in TEMPLATES.values()
        ]

    @get("/{template:str}", operation_id="RunReport", guards=[requires(Permission.REPORTS_READ)])
    async def run_report(
        self,
        read_session: ReadSession,
        runtime: RuntimeDep,
        current_user: CallerDep,
        template: TemplateKey,
        start: FromDay = None,
        end: ToDay = None,
        department_id: DepartmentFilter = None,
        workplace_id: WorkplaceFilter = None,
        user_id: UserFilter = None,
        format: Format = "json",
    ) -> Response[Any]:
        """The report over the caller's scope: JSON up to :data:`output.JSON_ROW_LIMIT` rows, CSV streamed at any size
        (both from the read replica while it is fresh).

        Errors: ``404 unknown_report``, ``422 invalid_range`` / ``unsupported_parameter``,
        ``422 too_large_for_json`` (ask for ``.csv``).
        """
        as_csv = template.endswith(".csv") or format == "csv"
        key = template.removesuffix(".csv")
        params = ReportParams(
            start=start, end=end, department_id=department_id, workplace_id=workplace_id, user_id=user_id
        )
        chosen, query, statement = await prepare(
            read_session,
            tenant_id=current_user.tenant_id,
            user_id=current_user.id,
            permissions=current_user.permissions,
            template=key,
            params=params,
        )
        if as_csv:
            body = output.csv_stream(runtime.reads, current_user.tenant_id, statement)
            return _csv(body, f"{chosen.key}-{query.first_day}-{query.last_day}.csv")
        rows = await output.json_rows(read_session, statement, template=chosen.key, limit=output.JSON_ROW_LIMIT)
        return Response(
            ReportResult(
                template=chosen.key,
                timezone=query.timezone,
                start=query.first_day,
                end=query.last_day,
                columns=output.columns_of(statement),
                rows=rows,
            )
        )

    @get("/schedules", operation_id="ListReportSchedules", guards=[requires(Permission.REPORTS_READ)])
    async def list_schedules(self, schedules: SchedulesDep, current_user: CallerDep) -> list[ScheduleResponse]:
        """The caller's schedules (everyone's with ``reports:all``), newest first, with their next run."""
        now = datetime.now(UTC)
        return [schedule_response(s, next_run(s, now)) for s in await schedules.listed(current_user)]

    @post(
        "/schedules", operation_id="CreateReportSchedule", status_code=201, guards=[requires(Permission.REPORTS_READ)]
    )
    async def create_schedule(
        self, schedules: SchedulesDep, current_user: CallerDep, origin: OriginDep, data: JSONBody[ScheduleCreate]
    ) -> ScheduleResponse:
        """Schedule a report, mailed as CSV to ``recipients`` at each time of ``cron`` in the tenant's time zone.

        Errors: ``422 invalid_cron``, ``422 invalid_schedule``, ``422 invalid_email``, ``404 unknown_report``,
        ``422 invalid_range`` / ``unsupported_parameter``.
        """
        schedule = await schedules.create_schedule(data, actor=current_user, origin=origin)
        return schedule_response(schedule, next_run(schedule, datetime.now(UTC)))

    @delete(
        "/schedules/{schedule_id:uuid}", operation_id="DeleteReportSchedule", guards=[requires(Permission.REPORTS_READ)]
    )
    async def delete_schedule(
        self, schedules: SchedulesDep, current_user: CallerDep, origin: OriginDep, schedule_id: ScheduleId
    ) -> None:
        """Delete a schedule with its runs (``404 not_found`` for another's without ``reports:all``)."""
        await schedules.remove(schedule_id, actor=current_user, origin=origin)

    @get(
        "/schedules/{schedule_id:uuid}/runs", operation_id="ListReportRuns", guards=[requires(Permission.REPORTS_READ)]
    )
    async def list_runs(
        self,
        schedules: SchedulesDep,
        runtime: RuntimeDep,
        current_user: CallerDep,
        schedule_id: ScheduleId,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> list[RunResponse]:
        """The schedule's history of runs, the latest first, each succeeded one with a signed CSV link."""
        schedule = await schedules.visible(schedule_id, current_user)
        now = datetime.now(UTC)
        secret, public_url = runtime.settings.resolved_secret_key(), runtime.settings.public_url
        return [
            run_response(
                run,
                download_link(
                    secret=secret, public_url=public_url, tenant_id=current_user.tenant_id, run_id=run.id, now=now
                ),
            )
            for run in await schedules.runs(schedule, limit=limit, offset=offset)
        ]

    @get("/runs/{token:str}/output.csv", operation_id="DownloadReportRun", exclude_from_auth=True, media_type=CSV_TYPE)
    async def download(self, runtime: RuntimeDep, token: Token) -> Response[bytes]:
        """A run's stored CSV through the signed link of its mail; the link is the credential.

        Errors: ``404 not_found`` for a forged, altered or expired link, or a run without output.
        """
        link = read_link(runtime.settings.resolved_secret_key(), token)
        if link is None:
            raise AppError("not_found", "This link is not valid or has expired.", status_code=404)
        async with runtime.db.transaction(tenant_id=link.t) as session:
            run = await session.get(ReportRun, link.r)
            schedule = await session.get(ReportSchedule, run.schedule_id) if run is not None else None
        if run is None or schedule is None or run.output is None:
            raise AppError("not_found", "This report output is gone.", status_code=404)
        name = f"{schedule.template}-{run.due_at.date().isoformat()}.csv"
        return Response(
            run.output,
            media_type=CSV_TYPE,
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )
