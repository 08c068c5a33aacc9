"""Which backups to keep: every one of the last day, then one a day for a month, and always the
newest verified one. A pure function of the manifests and the time."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING

import msgspec

if TYPE_CHECKING:
    from collections.abc import Sequence

    from persistence.backups.catalog import Manifest

__all__ = ["Retention", "expired"]


class Retention(msgspec.Struct, frozen=True, kw_only=True):
    keep_all: timedelta = timedelta(hours=24)
    """Every backup younger than this is kept."""
    keep_daily: timedelta = timedelta(days=30)
    """Beyond ``keep_all`` and younger than this, the first backup of each UTC day is kept
    (its first verified one, if any was verified)."""


def _daily(backups: Sequence[Manifest]) -> dict[date, Manifest]:
    """The backup that stands for each UTC day: the day's first verified one, else its first."""
    chosen: dict[date, Manifest] = {}
    for backup in sorted(backups, key=lambda b: b.taken_at):
        day = backup.taken_at.astimezone(UTC).date()
        current = chosen.get(day)
        if current is None or (current.status != "verified" and backup.status == "verified"):
            chosen[day] = backup
    return chosen


def expired(backups: Sequence[Manifest], *, now: datetime, retention: Retention) -> list[str]:
    """The names of the backups ``retention`` no longer keeps at ``now``, oldest first.

    Never the newest verified backup, however old: a store whose recent backups all failed
    verification still holds one that restores. Backups dated after ``now`` (a clock behind the
    database's) are kept.
    """
    keep: set[str] = set()
    verified = [backup for backup in backups if backup.status == "verified"]
    if verified:
        keep.add(max(verified, key=lambda b: b.taken_at).name)
    keep.update(backup.name for backup in backups if now - backup.taken_at < retention.keep_all)
    daily = [backup for backup in backups if now - backup.taken_at < retention.keep_daily]
    keep.update(backup.name for backup in _daily(daily).values())
    return [backup.name for backup in sorted(backups, key=lambda b: b.taken_at) if backup.name not in keep]
