"""Approve from the inbox: a manager's notification carries Approve and Reject, which open the signed
action page; confirming there decides the request."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.api.fieldops.test_field_approvals import leave_request, leave_status
from tests.kit import TenantKit
from tests.web.steps import DESKTOP

if TYPE_CHECKING:
    from tests.web.conftest import Login

pytestmark = pytest.mark.timeout(90)


async def test_a_manager_approves_a_leave_request_from_the_inbox(
    login: Login, client: AsyncTestClient[Litestar], tenant: TenantKit
) -> None:
    from playwright.async_api import expect

    request_id, staff = await leave_request(client, tenant)
    supervisor = await login("supervisor", width=DESKTOP)
    await supervisor.locator(".topbar .bell").click()
    actions = supervisor.locator(".inbox-list .notification a.action")
    await expect(actions).to_have_text(["Approve", "Reject"])

    async with supervisor.context.expect_page() as opened:
        await actions.filter(has_text="Approve").click()
    confirmation = await opened.value
    # Opening the link only asks; the request is still pending until the button is pressed.
    await expect(confirmation.get_by_role("button", name="Approve")).to_be_visible()
    assert await leave_status(client, staff, request_id) == "pending"
    await confirmation.get_by_role("button", name="Approve").click()
    await expect(confirmation.locator("h1")).to_have_text("Done")
    assert await leave_status(client, staff, request_id) == "approved"
