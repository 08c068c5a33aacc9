"""The built-in kinds whose domain object follows the final decision: leave requests, overtime records,
attendance corrections and maintenance requests over the tenant's cost threshold.

``fieldhub serve`` (:func:`api.app.create_app`) and ``fieldhub worker`` (which expires and escalates requests)
both call :func:`register_domain_subjects` at start-up, so a decision moves its domain object whichever process
makes it.
"""

from __future__ import annotations

from api.approvals.services.subjects import register_subject
from api.attendance import correction_requests as attendance_correction
from api.attendance.correction_requests import APPROVAL_KIND as ATTENDANCE_CORRECTION
from api.leave import decisions as leave
from api.leave.services import APPROVAL_KIND as LEAVE
from api.maintenance import approval as maintenance
from api.maintenance.approval import APPROVAL_KIND as MAINTENANCE_COST
from api.overtime import decisions as overtime
from api.overtime.approval import APPROVAL_KIND as OVERTIME


def register_domain_subjects() -> None:
    """Register each built-in kind's decision hook (repeating it changes nothing)."""
    register_subject(LEAVE, leave.apply_decision)
    register_subject(OVERTIME, overtime.apply_decision)
    register_subject(ATTENDANCE_CORRECTION, attendance_correction.apply_decision)
    register_subject(MAINTENANCE_COST, maintenance.apply_decision)
