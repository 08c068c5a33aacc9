"""The task endpoints, one controller per resource."""

from api.tasks.controllers.checklist import ChecklistController
from api.tasks.controllers.comments import CommentController
from api.tasks.controllers.dependencies import DependencyController
from api.tasks.controllers.files import TaskFileController
from api.tasks.controllers.tasks import TaskController
from api.tasks.controllers.templates import TemplateController
from api.tasks.controllers.time import TimeController

__all__ = [
    "ChecklistController",
    "CommentController",
    "DependencyController",
    "TaskController",
    "TaskFileController",
    "TemplateController",
    "TimeController",
]
