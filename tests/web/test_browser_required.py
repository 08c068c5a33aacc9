"""Without Chromium the browser tests skip on a developer machine, saying how to install it, and fail on
CI (``CI=true``): a CI run that silently skipped them would pass without testing the client."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.web import conftest

if TYPE_CHECKING:
    from pathlib import Path


def test_a_missing_chromium_skips_with_the_install_command_on_a_developer_machine(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(conftest, "CHROMIUM", str(tmp_path / "chromium"))
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception) as skipped:
        conftest.require_browser()
    assert str(skipped.value) == f"no Chromium at {tmp_path / 'chromium'}; {conftest.INSTALL_HINT}"
    assert "apt-get install -y chromium" in str(skipped.value)


def test_a_missing_chromium_fails_on_ci(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(conftest, "CHROMIUM", str(tmp_path / "chromium"))
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception) as failed:
        conftest.require_browser()
    assert str(failed.value) == f"no Chromium at {tmp_path / 'chromium'}; {conftest.INSTALL_HINT}"


def test_a_present_chromium_is_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    browser = tmp_path / "chromium"
    browser.write_bytes(b"")
    monkeypatch.setattr(conftest, "CHROMIUM", str(browser))
    monkeypatch.setenv("CI", "true")
    assert conftest.require_browser() == str(browser)
