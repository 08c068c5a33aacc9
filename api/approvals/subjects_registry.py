"""The built-in kinds whose domain object follows the final decision: leave requests and overtime records.

``fieldhub serve`` (:func:`api.app.create_app`) and ``fieldhub worker`` (which expires and escalates requests)
both call :func:`register_domain_subjects` at start-up, so a decision moves its leave request or overtime
record whichever process makes it.
"""

from __future__ import annotations

from api.approvals.services.subjects import register_subject
from api.leave import decisions as leave
from api.leave.services import APPROVAL_KIND as LEAVE
from api.overtime import decisions as overtime
from api.overtime.approval import APPROVAL_KIND as OVERTIME


def register_domain_subjects() -> None:
    """Register each built-in kind's decision hook (repeating it changes nothing)."""
    register_subject(LEAVE, leave.apply_decision)
    register_subject(OVERTIME, overtime.apply_decision)
