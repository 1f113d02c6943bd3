"""The one clock of respite, and the one rule for "today".

Every use case reads the time from ``deps.clock`` (built once in ``create_app``); pure code
takes ``today`` or ``now`` as an argument. "Today" is always a facility's local calendar date
(DESIGN.md §4, invariant 8): a search across facilities judges each by its own date.
Tests hand the app a ``ManualClock`` and set it; nothing monkeypatches time.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = ["Clock", "ManualClock", "SystemClock", "local_today", "zone"]


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware (UTC)."""
        ...


class SystemClock:
    """The machine's clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class ManualClock:
    """A clock that stands still until it is set or advanced (tests, benchmarks, the demo)."""

    def __init__(self, instant: datetime | None = None) -> None:
        self._now = (instant or datetime.now(UTC)).astimezone(UTC)

    def now(self) -> datetime:
        return self._now

    def set(self, instant: datetime) -> None:
        if instant.tzinfo is None:
            raise ValueError("a ManualClock is set to an aware datetime")
        self._now = instant.astimezone(UTC)

    def advance(self, delta: timedelta) -> None:
        self._now += delta


@lru_cache(maxsize=256)
def zone(timezone: str) -> ZoneInfo:
    """A facility's zone; an unknown name counts as UTC (facilities are checked on write)."""
    try:
        return ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def local_today(timezone: str, now: datetime) -> date:
    """The calendar date at ``now`` in a facility's timezone."""
    return now.astimezone(zone(timezone)).date()
