"""Quiet periods: weekends, Finnish public holidays and July move reminders to the next working day."""

from __future__ import annotations

from datetime import date

import pytest

from council.rules.calendar import is_quiet, next_working_day
from models.schemas import ReminderPolicyIn

POLICY = ReminderPolicyIn()


@pytest.mark.parametrize(
    ("day", "quiet"),
    [
        (date(2026, 6, 5), False),  # Friday
        (date(2026, 6, 6), True),  # Saturday
        (date(2026, 6, 19), True),  # Midsummer Eve (juhannusaatto)
        (date(2026, 5, 14), True),  # Ascension Day (helatorstai)
        (date(2026, 12, 24), True),  # Christmas Eve
        (date(2026, 7, 15), True),  # July: boards do not meet
        (date(2026, 8, 3), False),  # Monday after July
    ],
    ids=["friday", "saturday", "midsummer-eve", "ascension", "christmas-eve", "july", "august-monday"],
)
def test_quiet_days(day: date, quiet: bool) -> None:
    """Weekends, holidays computed by `holidays` and July are quiet; ordinary weekdays are not."""
    assert is_quiet(day, POLICY) is quiet


def test_next_working_day_skips_midsummer_and_july() -> None:
    """A reminder due on Midsummer Eve goes on Monday; one due in July goes on the first August weekday."""
    assert next_working_day(date(2026, 6, 19), POLICY) == date(2026, 6, 22)
    assert next_working_day(date(2026, 7, 6), POLICY) == date(2026, 8, 3)
    assert next_working_day(date(2026, 6, 5), POLICY) == date(2026, 6, 5)


def test_a_policy_can_turn_quiet_periods_off() -> None:
    """With July and weekends allowed, those days are working days."""
    open_policy = ReminderPolicyIn(skip_weekends=False, skip_july=False)
    assert not is_quiet(date(2026, 7, 15), open_policy)
    assert not is_quiet(date(2026, 6, 6), open_policy)
    assert is_quiet(date(2026, 6, 19), open_policy)
