"""Task rules: assignment (with its notification), the dependency graph, photo proof, checklists, comments,
files, time tracking, recurring templates and due times; every write is audited in the same transaction.

One module per resource; :mod:`api.tasks.services._base` holds what they share.
"""

from api.tasks.services.files import TaskFileService
from api.tasks.services.tasks import TaskService
from api.tasks.services.templates import TemplateService
from api.tasks.services.timers import TimeService
from api.tasks.services.work import ChecklistService, CommentService

__all__ = ["ChecklistService", "CommentService", "TaskFileService", "TaskService", "TemplateService", "TimeService"]
