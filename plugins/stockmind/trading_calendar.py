"""US equity trading calendar (NYSE holiday rules) and data-interval → trade-date mapping."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from zoneinfo import ZoneInfo

import pandas as pd
from pandas.tseries.holiday import (
    AbstractHolidayCalendar,
    GoodFriday,
    Holiday,
    USLaborDay,
    USMartinLutherKingJr,
    USMemorialDay,
    USPresidentsDay,
    USThanksgivingDay,
    nearest_workday,
)


class NYSEHolidayCalendar(AbstractHolidayCalendar):
    """Full-day NYSE closures (the regular rules; one-off closures are not modelled)."""

    rules = [  # noqa: RUF012 - pandas reads the class attribute
        Holiday("New Year's Day", month=1, day=1, observance=nearest_workday),
        USMartinLutherKingJr,
        USPresidentsDay,
        GoodFriday,
        USMemorialDay,
        Holiday("Juneteenth", month=6, day=19, start_date="2022-01-01", observance=nearest_workday),
        Holiday("Independence Day", month=7, day=4, observance=nearest_workday),
        USLaborDay,
        USThanksgivingDay,
        Holiday("Christmas Day", month=12, day=25, observance=nearest_workday),
    ]


@lru_cache(maxsize=64)
def _holidays(year_from: int, year_to: int) -> frozenset[dt.date]:
    days = NYSEHolidayCalendar().holidays(dt.date(year_from, 1, 1), dt.date(year_to, 12, 31))
    return frozenset(d.date() for d in days)


def trading_days(start: dt.date, end: dt.date) -> list[dt.date]:
    """Weekdays in [start, end] that are not NYSE holidays."""
    if end < start:
        return []
    holidays = _holidays(start.year, end.year)
    days = pd.bdate_range(start, end)
    return [d.date() for d in days if d.date() not in holidays]


def interval_trade_dates(
    interval_start: dt.datetime, interval_end: dt.datetime, tz: str = "America/New_York"
) -> tuple[dt.date, dt.date]:
    """Trade dates a data interval covers: local dates d with start < d ≤ end.

    A run at 17:30 New York on Monday has the interval Friday 17:30 → Monday 17:30 and
    loads Monday's bar; a manual run with an empty interval loads its end date.
    """
    zone = ZoneInfo(tz)
    first = interval_start.astimezone(zone).date() + dt.timedelta(days=1)
    last = interval_end.astimezone(zone).date()
    return (min(first, last), last)


SESSION_OPEN = dt.time(9, 30)
SESSION_CLOSE = dt.time(16, 0)


def is_market_open(at: dt.datetime, tz: str = "America/New_York") -> bool:
    """Whether ``at`` falls in a regular NYSE session (9:30–16:00 local on a trading day;
    early closes at 13:00 are not modelled: those afternoons poll and find no new bars)."""
    local = at.astimezone(ZoneInfo(tz))
    if local.date() in _holidays(local.year, local.year) or local.weekday() >= 5:
        return False
    return SESSION_OPEN <= local.time() < SESSION_CLOSE
