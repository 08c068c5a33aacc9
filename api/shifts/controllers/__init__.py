"""The shift endpoints."""

from api.shifts.controllers.shifts import ShiftController

__all__ = ["ShiftController"]
