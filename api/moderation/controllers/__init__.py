"""The moderation routes, one controller per resource."""

from api.moderation.controllers.admin import ModerationAdminController
from api.moderation.controllers.cases import CaseController
from api.moderation.controllers.flags import FlagController
from api.moderation.controllers.rules import RuleController
from api.moderation.controllers.suspension import SuspensionAppealController

__all__ = [
    "CaseController",
    "FlagController",
    "ModerationAdminController",
    "RuleController",
    "SuspensionAppealController",
]
