"""When a recurring task falls: its occurrences between two instants, at a local time in a time zone.

Occurrences are computed on local dates and only then turned into instants, so "every Monday at 09:00"
stays at 09:00 on the wall clock across daylight saving changes. A local time that does not exist
(skipped by the spring change) falls the gap's length later; one that exists twice (the autumn change)
falls on the first.
"""

from __future__ import annotations

import calendar
from datetime import date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

import msgspec

from api.workplaces.base import local_instant

Frequency = Literal["daily", "weekly", "monthly"]


class Rule(msgspec.Struct, frozen=True, kw_only=True):
    """A recurrence: ``weekdays`` (0 = Monday) for weekly, ``month_day`` (1-31) for monthly."""

    frequency: Frequency
    due_time: time
    starts_on: date
    ends_on: date | None = None
    weekdays: tuple[int, ...] = ()
    month_day: int | None = None


def falls_on(rule: Rule, day: date) -> bool:
    """Whether ``rule`` has an occurrence on local ``day``.

    A ``month_day`` beyond a month's length falls on its last day: 31 gives 2026-02-28.
    """
    if day < rule.starts_on or (rule.ends_on is not None and day > rule.ends_on):
        return False
    if rule.frequency == "daily":
        return True
    if rule.frequency == "weekly":
        return day.weekday() in rule.weekdays
    last = calendar.monthrange(day.year, day.month)[1]
    return day.day == min(rule.month_day or 1, last)


def occurrences(rule: Rule, zone: ZoneInfo, start: datetime, end: datetime) -> list[datetime]:
    """Every occurrence of ``rule`` at or after ``start`` and before ``end`` (aware instants), in UTC, in order."""
    found: list[datetime] = []
    day = start.astimezone(zone).date() - timedelta(days=1)
    last = end.astimezone(zone).date() + timedelta(days=1)
    while day <= last:
        if falls_on(rule, day):
            instant = local_instant(day, rule.due_time, zone)
            if start <= instant < end:
                found.append(instant)
        day += timedelta(days=1)
    return found
