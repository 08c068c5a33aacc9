"""The leave endpoints, one controller per resource."""

from api.leave.controllers.balances import LeaveBalanceController
from api.leave.controllers.calendar import LeaveCalendarController
from api.leave.controllers.requests import LeaveRequestController
from api.leave.controllers.types import LeaveTypeController

__all__ = ["LeaveBalanceController", "LeaveCalendarController", "LeaveRequestController", "LeaveTypeController"]
