"""The attendance endpoints, one controller per resource."""

from api.attendance.controllers.clock import ClockController
from api.attendance.controllers.days import WorkplaceDayController

__all__ = ["ClockController", "WorkplaceDayController"]
