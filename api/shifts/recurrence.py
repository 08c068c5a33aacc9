"""Occurrences of shifts: a one-off shift is its own occurrence; a weekly one repeats on local dates of its
workplace's time zone, so its start keeps its wall-clock time across DST changes while its length stays real.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import msgspec

from api.workplaces.base import local_instant

if TYPE_CHECKING:
    from collections.abc import Collection, Iterable, Mapping
    from datetime import date
    from uuid import UUID

    from persistence.models import Shift

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
HORIZON = timedelta(days=400)
"""How far two open-ended weekly shifts are compared: more than a year, so every DST change is met."""


class Span(msgspec.Struct, frozen=True, order=True):
    """One occurrence: from ``starts_at`` (included) to ``ends_at`` (excluded), both in UTC."""

    starts_at: datetime
    ends_at: datetime

    def overlaps(self, other: Span) -> bool:
        """Whether the two share an instant; one ending exactly when the other starts does not."""
        return self.starts_at < other.ends_at and other.starts_at < self.ends_at


def outer_span(shift: Shift, zone: ZoneInfo) -> tuple[datetime, datetime | None]:
    """When the shift's first occurrence may start and its last may end (``None``: never ends)."""
    if shift.kind == "one_off":
        assert shift.starts_at is not None
        assert shift.ends_at is not None
        return shift.starts_at, shift.ends_at
    assert shift.from_date is not None
    assert shift.duration_minutes is not None
    first = local_instant(shift.from_date, time(0), zone)
    if shift.until_date is None:
        return first, None
    last = local_instant(shift.until_date + timedelta(days=1), time(0), zone)
    return first, last + timedelta(minutes=shift.duration_minutes)


def occurrences(
    shift: Shift, zone: ZoneInfo, window_start: datetime, window_end: datetime, skip: Collection[date] = ()
) -> list[Span]:
    """The shift's occurrences that overlap ``[window_start, window_end)``, in order, but for those of a weekly
    shift starting on a local date in ``skip`` (called off one by one)."""
    if shift.kind == "one_off":
        assert shift.starts_at is not None
        assert shift.ends_at is not None
        span = Span(starts_at=shift.starts_at, ends_at=shift.ends_at)
        return [span] if span.overlaps(Span(starts_at=window_start, ends_at=window_end)) else []
    assert shift.start_time is not None
    assert shift.duration_minutes is not None
    assert shift.from_date is not None
    length = timedelta(minutes=shift.duration_minutes)
    # An occurrence starting the local day before the window may still run into it.
    day = max(shift.from_date, window_start.astimezone(zone).date() - timedelta(days=1 + length.days))
    last_day = window_end.astimezone(zone).date()
    if shift.until_date is not None:
        last_day = min(last_day, shift.until_date)
    wanted = {WEEKDAYS.index(name) for name in shift.weekdays}
    found: list[Span] = []
    while day <= last_day:
        if day.weekday() in wanted and day not in skip:
            starts = local_instant(day, shift.start_time, zone)
            span = Span(starts_at=starts, ends_at=starts + length)
            if span.starts_at < window_end and span.ends_at > window_start:
                found.append(span)
        day += timedelta(days=1)
    return found


def first_overlap(
    new: Shift,
    new_zone: ZoneInfo,
    others: Iterable[tuple[Shift, ZoneInfo]],
    skips: Mapping[UUID, Collection[date]] | None = None,
) -> tuple[Shift, Span] | None:
    """The first of ``others`` with an occurrence overlapping one of ``new``'s, and that occurrence; the
    occurrences of ``others`` called off (``skips``, local dates by shift id) free their time.

    Each pair is compared over the time both can have occurrences in; two open-ended weekly shifts
    over :data:`HORIZON`, after which their pattern only repeats.
    """
    new_start, new_end = outer_span(new, new_zone)
    for other, zone in others:
        other_start, other_end = outer_span(other, zone)
        start = max(new_start, other_start)
        ends = [end for end in (new_end, other_end) if end is not None]
        end = min(ends) if ends else start + HORIZON
        if start >= end:
            continue
        mine = occurrences(new, new_zone, start, end)
        theirs = occurrences(other, zone, start, end, (skips or {}).get(other.id, ()))
        clash = _first_clash(mine, theirs)
        if clash is not None:
            return other, clash
    return None


def _first_clash(mine: list[Span], theirs: list[Span]) -> Span | None:
    """The first of ``theirs`` overlapping one of ``mine``; both lists are sorted and free of self-overlap."""
    i = j = 0
    while i < len(mine) and j < len(theirs):
        if mine[i].overlaps(theirs[j]):
            return theirs[j]
        if mine[i].ends_at <= theirs[j].ends_at:
            i += 1
        else:
            j += 1
    return None
