"""The attendance endpoints, one controller per resource."""

from api.attendance.controllers.clock import ClockController
from api.attendance.controllers.corrections import CorrectionController
from api.attendance.controllers.days import WorkplaceDayController
from api.attendance.controllers.policy import PolicyController
from api.attendance.controllers.timesheets import TimesheetController

__all__ = [
    "ClockController",
    "CorrectionController",
    "PolicyController",
    "TimesheetController",
    "WorkplaceDayController",
]
