"""Approval test fixtures: the tests' database signs action links as the app's does, and a team to approve."""

from __future__ import annotations

import pytest

from api.approvals.services import install_action_links
from api.runtime import Runtime
from tests.api.approvals.arrange import Team
from tests.delivery.conftest import notification_worker
from tests.kit import TenantKit

__all__ = ["notification_worker"]


@pytest.fixture(autouse=True)
def _signing(runtime: Runtime) -> None:
    install_action_links(runtime.db, runtime.settings.resolved_secret_key())


@pytest.fixture
async def team(tenant: TenantKit) -> Team:
    """A requester, their manager and the manager's manager, in a department under a headed parent."""
    return await Team.create(tenant)
