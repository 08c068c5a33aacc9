"""Settings come from FIELDHUB_* variables; a wrong one stops the program with one line naming it."""

from __future__ import annotations

import pytest

from api.cli import main
from api.settings import SettingsError, load_settings


def test_values_are_read_and_converted_from_the_environment() -> None:
    settings = load_settings(
        {
            "FIELDHUB_DATABASE_URL": "postgresql://app@db:5432/fieldhub",
            "FIELDHUB_SESSION_TTL_HOURS": "8",
            "FIELDHUB_ALLOWED_ORIGINS": "https://a.example, https://b.example",
            "FIELDHUB_LOG_LEVEL": "DEBUG",
        }
    )
    assert settings.database_url == "postgresql://app@db:5432/fieldhub"
    assert settings.session_ttl_hours == 8
    assert settings.allowed_origins == ["https://a.example", "https://b.example"]
    assert settings.log_level == "DEBUG"


def test_unset_variables_take_their_defaults() -> None:
    settings = load_settings({})
    assert settings.database_url is None
    assert settings.redis_url is None
    assert settings.session_ttl_hours == 24 * 14


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("FIELDHUB_SESSION_TTL_HOURS", "two", "expected int"),
        ("FIELDHUB_SESSION_TTL_HOURS", "0", "positive integer"),
        ("FIELDHUB_LOG_LEVEL", "LOUD", "'DEBUG'"),
        ("FIELDHUB_REDIS_URL", "http://cache:6379", "redis://"),
        ("FIELDHUB_DATABASE_URL", "mysql://db/x", "postgresql://"),
        ("FIELDHUB_DATABASE_REPLICA_URL", "redis://replica", "postgresql://"),
        ("FIELDHUB_REPLICA_MAX_LAG_MS", "0", "positive integer"),
    ],
)
def test_a_wrong_value_names_the_variable_and_what_it_expected(variable: str, value: str, expected: str) -> None:
    with pytest.raises(SettingsError) as raised:
        load_settings({variable: value})
    message = str(raised.value)
    assert message.startswith(f"{variable}: ")
    assert expected in message
    assert "\n" not in message


def test_the_command_line_stops_with_one_line_on_a_wrong_value(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("FIELDHUB_LOGIN_MAX_FAILURES", "many")
    assert main(["worker"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "FIELDHUB_LOGIN_MAX_FAILURES" in err
