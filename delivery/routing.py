"""Which channels a notification takes for one user, and when: defaults, preferences, mutes, quiet hours.

Pure functions over rows already loaded, so every rule is testable without a database.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import TYPE_CHECKING, Literal, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec

if TYPE_CHECKING:
    from persistence.models import NotificationCategory

Channel = Literal["in_app", "email", "push"]
Priority = Literal["low", "normal", "high", "critical"]
CHANNELS: tuple[Channel, ...] = ("in_app", "email", "push")
DEFAULT_DIGEST_MINUTES = 60


class ChannelPlan(msgspec.Struct, frozen=True, kw_only=True):
    """One channel's decision: skipped (with the reason) or due at ``run_at``."""

    channel: Channel
    send: bool
    reason: str | None = None
    run_at: datetime | None = None
    digest: bool = False


class RoutePlan(msgspec.Struct, frozen=True, kw_only=True):
    """Every channel's decision for one recipient, and what a critical notification overrode."""

    channels: dict[str, ChannelPlan]
    overrode: list[str]


def parse_clock(value: str) -> time:
    """``"22:30"`` -> ``time(22, 30)``.

    Raises:
        ValueError: not ``HH:MM`` on a 24-hour clock.
    """
    hours, sep, minutes = value.partition(":")
    if not sep or len(hours) != 2 or len(minutes) != 2 or not (hours + minutes).isdigit():
        raise ValueError(f"{value!r} is not HH:MM")
    return time(int(hours), int(minutes))


def quiet_until(at: datetime, start: str | None, end: str | None, timezone: str) -> datetime | None:
    """When the quiet hours around ``at`` end (UTC), or ``None`` if ``at`` is outside them.

    Quiet hours are wall-clock times in the user's own ``timezone`` and may wrap midnight:
    ``22:00``-``07:00`` at 23:30 local ends at 07:00 the next local morning.
    """
    if not start or not end or start == end:
        return None
    try:
        zone = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    begin, finish = parse_clock(start), parse_clock(end)
    local = at.astimezone(zone)
    now = local.time()
    inside = begin <= now < finish if begin < finish else (now >= begin or now < finish)
    if not inside:
        return None
    day = local.date() if now < finish else local.date() + timedelta(days=1)
    return datetime.combine(day, finish, tzinfo=zone).astimezone(UTC)


class Choices(Protocol):
    """What routing reads of a user's notification settings (a ``notification_settings`` row)."""

    @property
    def muted(self) -> bool: ...
    @property
    def quiet_start(self) -> str | None: ...
    @property
    def quiet_end(self) -> str | None: ...
    @property
    def digest_minutes(self) -> int: ...


def plan_route(
    *,
    category: NotificationCategory,
    priority: Priority,
    preferences: dict[str, bool],
    settings: Choices | None,
    timezone: str,
    now: datetime,
) -> RoutePlan:
    """Decide each channel for one recipient.

    A channel is on if the category's default says so, unless the user overrode it (not possible
    on a locked category). A muted user gets the inbox only. Push and email wait the category's
    delay (zero for critical), then past the end of quiet hours. Critical notifications ignore
    mutes and quiet hours and list what they overrode. Low-priority email joins the user's digest.
    """
    critical = priority == "critical"
    overrode: list[str] = []
    plans: dict[str, ChannelPlan] = {}
    muted = settings is not None and settings.muted
    in_app = category.in_app if category.locked else preferences.get("in_app", category.in_app)
    plans["in_app"] = ChannelPlan(
        channel="in_app", send=in_app, reason=None if in_app else "preference", run_at=now if in_app else None
    )
    for channel in ("push", "email"):
        default: bool = getattr(category, channel)
        wanted = default if category.locked else preferences.get(channel, default)
        if not wanted:
            plans[channel] = ChannelPlan(
                channel=channel, send=False, reason="category_default" if not default else "preference"
            )
            continue
        if muted:
            if not critical:
                plans[channel] = ChannelPlan(channel=channel, send=False, reason="muted")
                continue
            if "muted" not in overrode:
                overrode.append("muted")
        # Without an inbox copy there is nothing to read first, so escalation does not wait.
        delay = 0 if critical or not in_app else getattr(category, f"{channel}_delay_seconds")
        run_at = now + timedelta(seconds=delay)
        reason = None
        quiet_end = quiet_until(run_at, settings.quiet_start, settings.quiet_end, timezone) if settings else None
        if quiet_end is not None:
            if critical:
                if "quiet_hours" not in overrode:
                    overrode.append("quiet_hours")
            else:
                run_at, reason = quiet_end, "quiet_hours"
        digest = channel == "email" and priority == "low" and digest_minutes(settings) > 0
        plans[channel] = ChannelPlan(channel=channel, send=True, run_at=run_at, reason=reason, digest=digest)
    return RoutePlan(channels=plans, overrode=overrode)


def digest_minutes(settings: Choices | None) -> int:
    """The user's digest interval; users who never chose one get an hourly digest of low-priority mail."""
    return settings.digest_minutes if settings is not None else DEFAULT_DIGEST_MINUTES


def digest_window_end(now: datetime, minutes: int) -> datetime:
    """The end of the digest window holding ``now``: windows are aligned to the epoch, ``minutes`` long."""
    span = minutes * 60
    stamp = int(now.timestamp())
    return datetime.fromtimestamp((stamp // span + 1) * span, UTC)
