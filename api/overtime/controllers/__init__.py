"""The overtime endpoints, one controller per resource."""

from api.overtime.controllers.records import OvertimeController
from api.overtime.controllers.rules import OvertimeRulesController

__all__ = ["OvertimeController", "OvertimeRulesController"]
