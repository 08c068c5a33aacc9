"""The reports page in the browser: a supervisor or admin picks a report and sees its rows as SVG bars and a
table, with a CSV link; staff have no reports link."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pytest

from tests.api.reports.arrange import add, incident
from tests.kit import TenantKit

if TYPE_CHECKING:
    from tests.web.conftest import Login

pytestmark = pytest.mark.timeout(120)


async def test_an_admin_sees_a_report_as_bars_and_a_table(login: Login, tenant: TenantKit) -> None:
    from playwright.async_api import expect

    recently = datetime.now(UTC) - timedelta(hours=2)
    await add(tenant, *[incident(tenant, kind, at=recently) for kind in ("slip", "slip", "spill")])
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


async def test_a_report_picked_while_the_default_loads_is_not_overwritten_by_its_late_answer(
    login: Login, tenant: TenantKit
) -> None:
    from playwright.async_api import Route, expect

    await add(tenant, incident(tenant, "spill", at=datetime.now(UTC) - timedelta(hours=2)))
    page = await login("admin")
    release = asyncio.Event()

    async def hold(route: Route) -> None:
        await release.wait()
        await route.continue_()

    # The default report (the first) answers only once the one picked next is on screen.
    await page.route(re.compile(r"/api/v1/reports/attendance_summary\?"), hold)
    await page.locator(".topbar .reports-open").click()
    await page.get_by_label("Report", exact=True).select_option("incidents")
    await expect(page.locator(".reports table")).to_contain_text("spill")

    async with page.expect_response(re.compile(r"/api/v1/reports/attendance_summary\?")) as late:
        release.set()
    await (await late.value).finished()
    # Two rendered frames: the late answer's handling (its JSON, then the page) has run by then.
    for _ in range(2):
        await page.evaluate("() => new Promise((done) => requestAnimationFrame(done))")
    await expect(page.locator(".reports table")).to_contain_text("spill")
    await expect(page.locator(".reports table")).not_to_contain_text("days present")
