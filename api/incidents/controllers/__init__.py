"""The incident endpoints."""

from api.incidents.controllers.incidents import IncidentController

__all__ = ["IncidentController"]
