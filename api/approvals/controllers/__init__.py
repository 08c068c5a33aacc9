"""The approval endpoints, one controller per resource."""

from api.approvals.controllers.actions import ActionController
from api.approvals.controllers.delegations import DelegationController
from api.approvals.controllers.requests import RequestController
from api.approvals.controllers.workflows import WorkflowController

__all__ = ["ActionController", "DelegationController", "RequestController", "WorkflowController"]
