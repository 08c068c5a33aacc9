"""Time tracking on tasks: one running timer per person, manual entries, and totals."""

from __future__ import annotations

from litestar import Controller, get, post
from litestar.params import JSONBody

from api.auth.guards import requires
from api.auth.permissions import Permission
from api.deps import CallerDep, DbDriver, OriginDep
from api.tasks import deps
from api.tasks.deps import TaskId, TimesDep
from api.tasks.schemas import TaskTime, TimeEntryCreate, TimeEntryResponse, time_entry_response
from api.tasks.services import timers


class TimeController(Controller):
    path = "/api/v1/tasks"
    tags = ["tasks"]
    dependencies = {"times": deps.times}

    @post(
        "/{task_id:uuid}/timer",
        operation_id="StartTaskTimer",
        status_code=201,
        guards=[requires(Permission.TASKS_WORK)],
    )
    async def start_timer(
        self, task_id: TaskId, db_driver: DbDriver, current_user: CallerDep, origin: OriginDep
    ) -> TimeEntryResponse:
        """Start one's timer on the task (``409 timer_running`` while one of one's timers runs)."""
        return time_entry_response(await timers.start_timer(db_driver, task_id, actor=current_user, origin=origin))

    @post("/timer/stop", operation_id="StopTaskTimer", status_code=200, guards=[requires(Permission.TASKS_WORK)])
    async def stop_timer(self, db_driver: DbDriver, current_user: CallerDep, origin: OriginDep) -> TimeEntryResponse:
        """Stop one's running timer (``409 no_timer_running``)."""
        return time_entry_response(await timers.stop_timer(db_driver, actor=current_user, origin=origin))

    @post(
        "/{task_id:uuid}/time-entries",
        operation_id="AddTaskTimeEntry",
        status_code=201,
        guards=[requires(Permission.TASKS_WORK)],
    )
    async def add_entry(
        self,
        task_id: TaskId,
        data: JSONBody[TimeEntryCreate],
        times: TimesDep,
        current_user: CallerDep,
        origin: OriginDep,
    ) -> TimeEntryResponse:
        """Record time worked by hand (``422 invalid_interval``, ``422 naive_datetime``, ``422 in_future``)."""
        return time_entry_response(await times.add_entry(task_id, data, actor=current_user, origin=origin))

    @get("/{task_id:uuid}/time", operation_id="TaskTimeTotals", guards=[requires(Permission.TASKS_READ)])
    async def totals(self, task_id: TaskId, times: TimesDep) -> TaskTime:
        """Finished time on the task, in all and per person, with its entries."""
        return await times.totals(task_id)
