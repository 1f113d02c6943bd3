"""Which stay a freed bed can give an entry, and in which order entries are served. Pure.

A job frees nights ``[from, until)`` of one bed. The run offered is the free stretch of that
bed around them: nights neither claimed in PostgreSQL (bookings, blocks), nor held in Redis,
nor under an open offer, within the bounds the worker reads (``RUN_REACH`` nights either side)
and never before the facility's today. An entry fits a run when its window and the run share
at least its fewest nights; it is offered the earliest such stay, as long as it wants.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, timedelta

from msgspec import Struct

__all__ = ["RUN_REACH", "Run", "Window", "fit", "free_run", "rest"]

RUN_REACH = 90
"""Nights either side of the freed ones the worker looks at to find the free run."""
_DAY = timedelta(days=1)


class Run(Struct, frozen=True):
    """Free nights ``[start, end)`` of one bed."""

    start: date
    end: date

    @property
    def nights(self) -> int:
        return (self.end - self.start).days


class Window(Struct, frozen=True, kw_only=True):
    """What an entry waits for: a stay of ``nights`` (at least ``min_nights``) within
    ``[earliest_check_in, latest_check_out)``."""

    earliest_check_in: date
    latest_check_out: date
    nights: int
    min_nights: int


def free_run(
    freed: Run, taken: Iterable[tuple[date, date]], *, today: date, bounds: Run
) -> Run | None:
    """The free stretch around the freed nights: from the first freed night still free (at
    or after ``today``), outward to the nearest taken night on either side, within ``bounds``.
    ``taken`` are stays ``[check_in, check_out)`` of claims, holds and open offers. None when
    no freed night is still free."""
    busy = sorted((max(a, bounds.start), min(b, bounds.end)) for a, b in taken if a < b)
    night = max(freed.start, today, bounds.start)
    while night < freed.end:
        blocking = next((s for s in busy if s[0] <= night < s[1]), None)
        if blocking is None:
            break
        night = blocking[1]
    else:
        return None
    before = [b for _, b in busy if b <= night]
    after = [a for a, _ in busy if a > night]
    start = max([bounds.start, today, *before])
    end = min([bounds.end, *after])
    return Run(start, end) if end > start else None


def fit(window: Window, run: Run) -> Run | None:
    """The stay the run gives the entry: the earliest check-in both allow, as many nights as
    wanted and both allow; None when that is fewer than its fewest."""
    check_in = max(run.start, window.earliest_check_in)
    check_out = min(check_in + window.nights * _DAY, run.end, window.latest_check_out)
    if (check_out - check_in).days < window.min_nights:
        return None
    return Run(check_in, check_out)


def rest(run: Run, stay: Run) -> Sequence[Run]:
    """What the run has left on either side of the stay offered from it."""
    return [r for r in (Run(run.start, stay.start), Run(stay.end, run.end)) if r.end > r.start]
