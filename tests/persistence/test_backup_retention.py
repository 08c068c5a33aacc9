"""The retention rule: every backup of the last day, the first of each day for a month, and the
newest verified backup always."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Literal

from persistence.backups import Manifest, Retention, Verification, expired

NOW = datetime(2026, 3, 31, 12, 30, tzinfo=UTC)
RULE = Retention(keep_all=timedelta(hours=24), keep_daily=timedelta(days=30))


def _backup(taken_at: datetime, status: Literal["verified", "failed"] | None = "verified") -> Manifest:
    verification = None
    if status is not None:
        error = None if status == "verified" else "corrupt: the dump's SHA-256 differs from its manifest's"
        verification = Verification(status=status, verified_at=taken_at, restore_seconds=1.0, error=error)
    return Manifest(
        name=f"fieldhub-{taken_at:%Y%m%dT%H%M%SZ}",
        taken_at=taken_at,
        size_bytes=1,
        sha256="0" * 64,
        revision="0008",
        tables={},
        dump_seconds=0.1,
        verification=verification,
    )


def _hourly(hours: int) -> list[Manifest]:
    return [_backup(NOW - timedelta(hours=h)) for h in range(hours)]


def test_every_backup_of_the_last_day_is_kept() -> None:
    assert expired(_hourly(24), now=NOW, retention=RULE) == []


def test_older_backups_keep_only_the_first_of_each_day() -> None:
    backups = _hourly(24 * 5)
    kept = {b.name for b in backups} - set(expired(backups, now=NOW, retention=RULE))
    older = [b for b in backups if b.name in kept and NOW - b.taken_at >= timedelta(hours=24)]
    assert sorted(b.taken_at for b in older) == [
        datetime(2026, 3, 26, 13, 30, tzinfo=UTC),  # the oldest backup: the first of its day
        datetime(2026, 3, 27, 0, 30, tzinfo=UTC),
        datetime(2026, 3, 28, 0, 30, tzinfo=UTC),
        datetime(2026, 3, 29, 0, 30, tzinfo=UTC),
        datetime(2026, 3, 30, 0, 30, tzinfo=UTC),
    ]


def test_daily_backups_older_than_a_month_are_pruned() -> None:
    backups = [_backup(NOW - timedelta(days=d)) for d in (1, 29, 31, 45)]
    assert expired(backups, now=NOW, retention=RULE) == [backups[3].name, backups[2].name]


def test_a_day_is_represented_by_its_first_verified_backup() -> None:
    day = datetime(2026, 3, 20, tzinfo=UTC)
    failed, verified, later = (
        _backup(day + timedelta(hours=1), "failed"),
        _backup(day + timedelta(hours=2)),
        _backup(day + timedelta(hours=3)),
    )
    recent = _backup(NOW - timedelta(hours=1))
    assert expired([failed, verified, later, recent], now=NOW, retention=RULE) == [failed.name, later.name]


def test_the_newest_verified_backup_is_never_pruned() -> None:
    old_verified = _backup(NOW - timedelta(days=90))
    failing = [_backup(NOW - timedelta(hours=h), "failed") for h in range(3)]
    assert expired([old_verified, *failing], now=NOW, retention=RULE) == []
    assert expired([old_verified, _backup(NOW - timedelta(days=91))], now=NOW, retention=RULE) == [
        f"fieldhub-{NOW - timedelta(days=91):%Y%m%dT%H%M%SZ}"
    ]


def test_backups_dated_after_now_are_kept() -> None:
    assert expired([_backup(NOW + timedelta(minutes=5), None)], now=NOW, retention=RULE) == []


def test_a_shorter_rule_keeps_less() -> None:
    backups = _hourly(24 * 3)
    short = Retention(keep_all=timedelta(hours=6), keep_daily=timedelta(days=1))
    kept = {b.name for b in backups} - set(expired(backups, now=NOW, retention=short))
    # The last 6 hours, then today's first and the first of yesterday's within a day.
    assert sorted(kept)[:2] == ["fieldhub-20260330T133000Z", "fieldhub-20260331T003000Z"]
    assert len(kept) == 2 + 6
