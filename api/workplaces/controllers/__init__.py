"""The workplace endpoints, one controller per resource."""

from api.workplaces.controllers.assignments import AssignmentController
from api.workplaces.controllers.workplaces import WorkplaceController

__all__ = ["AssignmentController", "WorkplaceController"]
