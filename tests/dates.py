"""The dates a test works with, from its clock (never from the machine's, never at import)."""

from __future__ import annotations

from datetime import date, timedelta

import msgspec

from respite.clock import Clock, local_today


class When(msgspec.Struct, frozen=True):
    """Today at a facility's timezone by the test's clock, and ``d``: the first night of the
    stay a test looks at unless it says otherwise."""

    today: date
    d: date

    def days(self, first: int, last: int) -> tuple[date, date]:
        """The nights ``[d + first, d + last)``."""
        return (self.d + timedelta(days=first), self.d + timedelta(days=last))


def when(clock: Clock, *, ahead: int = 30, timezone: str = "Asia/Shanghai") -> When:
    today = local_today(timezone, clock.now())
    return When(today, today + timedelta(days=ahead))
