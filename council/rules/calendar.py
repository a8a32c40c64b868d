"""Quiet periods: weekends, Finnish public holidays (computed by the `holidays` package) and July.

A reminder due on a quiet day goes out on the next working day.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

from holidays.countries.finland import (
    Finland,  # loaded with this module: on first use, inside a run, it took 0.3 s
)

from models.schemas import ReminderPolicyIn


@lru_cache(maxsize=64)
def _finnish_holidays(year: int) -> frozenset[date]:
    """The year's Finnish public holidays as plain dates: a set look-up, where asking the
    ``holidays`` object itself converts and checks the key each time (most of the dashboard's
    time at 329 bodies, one look-up per body and day)."""
    return frozenset(Finland(years=year))


def is_quiet(day: date, policy: ReminderPolicyIn) -> bool:
    """True on a day no reminder goes out under ``policy``."""
    if policy.skip_weekends and day.weekday() >= 5:
        return True
    if policy.skip_july and day.month == 7:
        return True
    return bool(policy.skip_holidays and day in _finnish_holidays(day.year))


def next_working_day(day: date, policy: ReminderPolicyIn) -> date:
    """``day`` itself if it is not quiet, else the first following day that is not."""
    for _ in range(400):
        if not is_quiet(day, policy):
            return day
        day += timedelta(days=1)
    raise ValueError("no working day within 400 days: the policy makes every day quiet")
