"""Counting nights against a quota: each night counts in the period it falls in."""

from collections.abc import Sequence
from datetime import date, timedelta

from respite.eligibility.model import CurrentAssessment, PeriodUse, Stay, merge_stays
from respite.eligibility.policy import (
    CalendarYear,
    FinancialYear,
    HalfCertification,
    Month,
    Quota,
    Rolling365,
)

ROLLING_DAYS = 365


def nights_used_by_period(
    quota: Quota,
    used: Sequence[Stay],
    stay: Stay,
    *,
    certification: CurrentAssessment | None = None,
    extra_nights: int = 0,
) -> list[PeriodUse]:
    """Use of every period the requested stay touches, in date order.

    ``used`` are the person's other stays under the programme; a night that appears in several
    of them, or in the requested stay too, counts once. ``extra_nights`` is an approved
    extension added to each limit. A ``HalfCertification`` quota needs the ``certification``
    whose validity defines its one period; without it there is no period to count in.
    """
    runs = merge_stays(used)
    if isinstance(quota, Rolling365):
        return [_worst_rolling_window(quota.nights + extra_nights, runs, stay)]
    if isinstance(quota, HalfCertification):
        return _certification_period(runs, stay, certification, extra_nights)
    periods: list[PeriodUse] = []
    name = str(quota.__struct_config__.tag)
    start, end = _period_around(quota, stay.check_in)
    while start < stay.check_out:
        periods.append(_use(name, start, end, quota.nights + extra_nights, runs, stay))
        start, end = _period_around(quota, end)
    return periods


def _period_around(quota: CalendarYear | FinancialYear | Month, night: date) -> tuple[date, date]:
    if isinstance(quota, CalendarYear):
        return date(night.year, 1, 1), date(night.year + 1, 1, 1)
    if isinstance(quota, Month):
        start = night.replace(day=1)
        return start, (start + timedelta(days=31)).replace(day=1)
    year = night.year if night.month >= quota.start_month else night.year - 1
    return date(year, quota.start_month, 1), date(year + 1, quota.start_month, 1)


def _certification_period(
    runs: list[Stay], stay: Stay, certification: CurrentAssessment | None, extra_nights: int
) -> list[PeriodUse]:
    if certification is None:
        return []
    start = certification.assessed_on
    end = certification.valid_until + timedelta(days=1)
    if stay.check_out <= start or stay.check_in >= end:
        return []
    limit = (end - start).days // 2 + extra_nights
    return [_use("half_certification", start, end, limit, runs, stay)]


def _worst_rolling_window(limit: int, runs: list[Stay], stay: Stay) -> PeriodUse:
    """The fullest 365-day window holding a night of the stay (earliest if tied).

    A window ending long after the stay can still hold its first night, and later bookings in
    that window count too, so every such window is examined, not only the one ending today.
    """
    window = timedelta(days=ROLLING_DAYS)
    best: PeriodUse | None = None
    for offset in range(stay.nights + ROLLING_DAYS - 1):
        end = stay.check_in + timedelta(days=offset + 1)
        use = _use("rolling_365", end - window, end, limit, runs, stay)
        if best is None or use.used + use.requested > best.used + best.requested:
            best = use
    assert best is not None  # a stay has at least one night, so the loop ran
    return best


def _use(
    period: str, start: date, end: date, limit: int, runs: list[Stay], stay: Stay
) -> PeriodUse:
    requested = _overlap(start, end, stay.check_in, stay.check_out)
    in_period = sum(_overlap(start, end, run.check_in, run.check_out) for run in runs)
    also_requested = sum(
        _overlap(max(start, stay.check_in), min(end, stay.check_out), run.check_in, run.check_out)
        for run in runs
    )
    used = in_period - also_requested
    return PeriodUse(
        period=period,
        start=start,
        end=end,
        limit=limit,
        used=used,
        requested=requested,
        left=max(limit - used, 0),
    )


def _overlap(start_a: date, end_a: date, start_b: date, end_b: date) -> int:
    return max((min(end_a, end_b) - max(start_a, start_b)).days, 0)
