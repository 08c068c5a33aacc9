"""The maintenance endpoints, one controller per resource."""

from api.maintenance.controllers.comments import MaintenanceCommentController
from api.maintenance.controllers.requests import MaintenanceController
from api.maintenance.controllers.sla import SlaController

__all__ = ["MaintenanceCommentController", "MaintenanceController", "SlaController"]
