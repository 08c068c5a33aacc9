"""Browser tests: the app as a real process on a free port, Debian's Chromium driven by Playwright."""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.kit import PASSWORD, TenantKit
from tests.nodes import AppNode

if TYPE_CHECKING:
    from playwright.async_api import Browser, BrowserContext, Page

    from api.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("FIELDHUB_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
INSTALL_HINT = (
    "browser tests need Debian's Chromium and Playwright for Python: "
    "`apt-get install -y chromium` and `.venv/bin/pip install -e '.[dev]'` (never `playwright install`)"
)
ARTIFACTS = Path(os.environ.get("FIELDHUB_TEST_ARTIFACTS") or ROOT / ".artifacts") / "web"

Login = Callable[..., Awaitable["Page"]]


def _missing_browser() -> str | None:
    try:
        import playwright.async_api  # noqa: F401
    except ImportError:
        return "Playwright for Python is not installed"
    if not Path(CHROMIUM).is_file():
        return f"no Chromium at {CHROMIUM}"
    return None


def require_browser() -> str:
    """Chromium's path; skips the test without it on a developer machine, fails it on CI (``CI=true``).

    Raises:
        pytest.skip.Exception: no browser, not on CI (the message says how to install one).
        pytest.fail.Exception: no browser on CI.
    """
    missing = _missing_browser()
    if missing:
        message = f"{missing}; {INSTALL_HINT}"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    return CHROMIUM


@pytest.fixture(scope="session")
def chromium_path() -> str:
    """Chromium's path (see :func:`require_browser`)."""
    return require_browser()


@pytest.fixture(scope="session")
async def web_app(settings: Settings, chromium_path: str) -> AsyncIterator[AppNode]:
    """``fieldhub serve`` on a free port (it allows its own origin for cookie-authenticated requests)."""
    app = AppNode(settings)
    try:
        await app.ready()
        yield app
    finally:
        app.stop()


@pytest.fixture(scope="session")
async def browser(chromium_path: str) -> AsyncIterator[Browser]:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            await launched.close()


@pytest.fixture
def artifacts() -> Path:
    """Where screenshots go (kept after the run: ``.artifacts/web`` or ``$FIELDHUB_TEST_ARTIFACTS/web``)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture
async def login(browser: Browser, web_app: AppNode, tenant: TenantKit) -> AsyncIterator[Login]:
    """``await login(role, width=1280)``: a new browser context signed in as that user of the tenant.

    ``prepare(context)`` runs before the page opens (grant permissions, route the WebSocket...);
    other keywords go to ``browser.new_context`` (``timezone_id``...). Page errors fail the test:
    a client that throws is broken even if the screen looks right.
    """
    from playwright.async_api import expect

    expect.set_options(timeout=10_000)
    contexts: list[BrowserContext] = []
    errors: list[str] = []

    async def open_as(
        role: str,
        *,
        width: int = 1280,
        prepare: Callable[[BrowserContext], Awaitable[None]] | None = None,
        **options: Any,
    ) -> Page:
        context = await browser.new_context(viewport={"width": width, "height": 800}, base_url=web_app.url, **options)
        context.set_default_timeout(10_000)
        contexts.append(context)
        if prepare is not None:
            await prepare(context)
        page = await context.new_page()
        page.on("pageerror", lambda error: errors.append(f"{role}: {error}"))
        await page.goto("/")
        await page.get_by_label("Email").fill(tenant.email(role))
        await page.get_by_label("Password").fill(PASSWORD)
        await page.get_by_role("button", name="Sign in").click()
        await expect(page.locator(".topbar .whoami")).to_have_text(role.title())
        await expect(page.locator("body")).to_have_attribute("data-connection", "open")
        return page

    yield open_as
    for context in contexts:
        await context.close()
    assert not errors, errors
