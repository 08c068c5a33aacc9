"""Approval rules: the state machine (:mod:`.flow`), approver rules and delegation lookups (:mod:`.approvers`),
notifications and action links, timeouts, and the services behind the HTTP endpoints.

What domain packages use: :func:`submit`, :func:`lock_open_request` and :func:`cancel_locked` in their own
transaction, and :func:`register_subject` so their object follows the final decision.
"""

from api.approvals.services.delegations import DelegationService
from api.approvals.services.flow import cancel_locked, lock_open_request, submit
from api.approvals.services.links import install_action_links
from api.approvals.services.requests import RequestService
from api.approvals.services.subjects import Outcome, SubjectHandler, register_subject, unregister_subject
from api.approvals.services.workflows import WorkflowService

__all__ = [
    "DelegationService",
    "Outcome",
    "RequestService",
    "SubjectHandler",
    "WorkflowService",
    "cancel_locked",
    "install_action_links",
    "lock_open_request",
    "register_subject",
    "submit",
    "unregister_subject",
]
