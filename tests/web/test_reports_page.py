"""The reports page in the browser: a supervisor or admin picks a report and sees its rows as SVG bars and a
table, with a CSV link; staff have no reports link."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pytest

from persistence.models import Incident
from tests.api.reports.arrange import add
from tests.kit import TenantKit

if TYPE_CHECKING:
    from tests.web.conftest import Login

pytestmark = pytest.mark.timeout(120)


async def test_an_admin_sees_a_report_as_bars_and_a_table(login: Login, tenant: TenantKit) -> None:
    from playwright.async_api import expect

    recently = datetime.now(UTC) - timedelta(hours=2)
    await add(
        tenant,
        *[
            Incident(
                tenant_id=tenant.id, type=kind, severity="low", description="-", status="open", occurred_at=recently
            )
            for kind in ("slip", "slip", "spill")
        ],
    )
    staff = await login("staff")
    await expect(staff.locator(".topbar .reports-open")).to_have_count(0)
    page = await login("admin")

    await page.locator(".topbar .reports-open").click()
    await page.get_by_label("Report", exact=True).select_option("incidents")

    # The default report shows first; wait for the incidents' rows before counting anything.
    await expect(page.locator(".reports table")).to_contain_text("spill")
    await expect(page.locator(".reports table tbody tr")).to_have_count(2)
    bars = page.locator(".reports-chart rect")
    await expect(bars).to_have_count(2)
    assert [await bar.get_attribute("data-value") for bar in await bars.all()] == ["2", "1"]
    href = await page.get_by_role("link", name="Download CSV").get_attribute("href")
    assert href is not None
    assert href.startswith("/api/v1/reports/incidents.csv?from=")
