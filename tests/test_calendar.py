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


def _policy(weekends: bool, holidays: bool, july: bool) -> ReminderPolicyIn:
    return ReminderPolicyIn(skip_weekends=weekends, skip_holidays=holidays, skip_july=july)


SATURDAY = date(2026, 6, 6)  # an ordinary Saturday in June
ASCENSION = date(2026, 5, 14)  # a holiday on a Thursday
JULY_WEDNESDAY = date(2026, 7, 15)
ALL_SAINTS = date(2026, 10, 31)  # a holiday on a Saturday
JULY_SATURDAY = date(2026, 7, 4)
TUESDAY = date(2026, 6, 9)


@pytest.mark.parametrize(
    ("weekends", "holidays", "july"),
    [(w, h, j) for w in (True, False) for h in (True, False) for j in (True, False)],
    ids=lambda flag: "on" if flag else "off",
)
def test_each_quiet_rule_switches_on_and_off_on_its_own(weekends: bool, holidays: bool, july: bool) -> None:
    """A weekend day is quiet iff weekends are skipped, a weekday holiday iff holidays are, a July weekday iff July is."""
    policy = _policy(weekends, holidays, july)
    assert {
        "saturday": is_quiet(SATURDAY, policy),
        "ascension": is_quiet(ASCENSION, policy),
        "july-wednesday": is_quiet(JULY_WEDNESDAY, policy),
        "all-saints-saturday": is_quiet(ALL_SAINTS, policy),
        "july-saturday": is_quiet(JULY_SATURDAY, policy),
        "tuesday": is_quiet(TUESDAY, policy),
    } == {
        "saturday": weekends,
        "ascension": holidays,
        "july-wednesday": july,
        "all-saints-saturday": weekends or holidays,
        "july-saturday": weekends or july,
        "tuesday": False,
    }


@pytest.mark.parametrize("year", [2024, 2025, 2026, 2027, 2030], ids=str)
@pytest.mark.parametrize(
    ("month", "day", "quiet"),
    [(6, 30, False), (7, 1, True), (7, 31, True), (8, 1, False)],
    ids=["30-june", "1-july", "31-july", "1-august"],
)
def test_july_is_exactly_1_to_31_july(year: int, month: int, day: int, quiet: bool) -> None:
    """With only the July rule on, 1 and 31 July are quiet and 30 June and 1 August are not, in any year."""
    assert is_quiet(date(year, month, day), _policy(False, False, True)) is quiet


@pytest.mark.parametrize(
    ("due", "expected"),
    [
        (date(2024, 7, 1), date(2024, 8, 1)),  # 1.8.2024 is a Thursday
        (date(2025, 7, 31), date(2025, 8, 1)),  # Friday
        (date(2026, 7, 1), date(2026, 8, 3)),  # 1.8.2026 is a Saturday: Monday 3.8.
        (date(2027, 7, 15), date(2027, 8, 2)),  # 1.8.2027 is a Sunday: Monday 2.8.
        (date(2030, 7, 31), date(2030, 8, 1)),  # Thursday
        (date(2026, 6, 30), date(2026, 6, 30)),  # the last working day before July stays
    ],
    ids=["2024-1-july", "2025-31-july", "2026-1-july", "2027-mid-july", "2030-31-july", "2026-30-june"],
)
def test_a_due_day_in_july_moves_to_the_first_working_day_of_august(due: date, expected: date) -> None:
    """Under the default policy any July day moves to the first weekday of August (the search leaves July)."""
    assert next_working_day(due, POLICY) == expected


@pytest.mark.parametrize(
    ("start", "weekends", "holidays", "expected"),
    [
        (date(2026, 12, 24), True, True, date(2026, 12, 28)),  # Thu, Fri holidays, Sat holiday, Sun
        (date(2026, 12, 24), False, True, date(2026, 12, 27)),  # Sunday 27.12. is no holiday
        (date(2026, 12, 24), True, False, date(2026, 12, 24)),
        (date(2027, 12, 24), False, True, date(2027, 12, 27)),  # 25.12. Sat, 26.12. Sun are holidays
        (date(2027, 12, 25), True, False, date(2027, 12, 27)),
        (date(2027, 12, 25), False, False, date(2027, 12, 25)),
        (date(2026, 6, 20), False, True, date(2026, 6, 21)),  # Midsummer Day (Sat) is a holiday, Sunday not
        (date(2027, 5, 1), False, True, date(2027, 5, 2)),  # May Day on a Saturday
    ],
    ids=[
        "xmas-2026-default",
        "xmas-2026-holidays-only",
        "xmas-2026-weekends-only",
        "xmas-2027-holidays-only",
        "xmas-day-2027-weekends-only",
        "xmas-day-2027-nothing-quiet",
        "midsummer-day-holidays-only",
        "may-day-saturday-holidays-only",
    ],
)
def test_holidays_falling_on_weekends(start: date, weekends: bool, holidays: bool, expected: date) -> None:
    """A holiday on a weekend is quiet under either rule; with both off it is a working day."""
    assert next_working_day(start, _policy(weekends, holidays, False)) == expected


@pytest.mark.parametrize(
    ("day", "quiet"),
    [
        (date(2027, 1, 1), True),
        (date(2030, 6, 21), True),
        (date(2030, 6, 24), False),
        (date(2025, 12, 6), True),
    ],
    ids=["new-year-2027", "midsummer-eve-2030", "monday-after-2030", "independence-day-2025-saturday"],
)
def test_holidays_are_those_of_the_day_own_year(day: date, quiet: bool) -> None:
    """Holidays are computed for the year of the day asked, whatever year was asked before."""
    assert is_quiet(day, _policy(False, True, False)) is quiet


@pytest.mark.parametrize(
    ("quiet_days", "expected"),
    [(0, date(2026, 1, 5)), (399, date(2027, 2, 8))],
    ids=["none", "399"],
)
def test_the_search_gives_up_only_after_400_quiet_days(
    monkeypatch: pytest.MonkeyPatch, quiet_days: int, expected: date
) -> None:
    """The search looks at the day itself and the 399 following: a first working day among them is found."""
    from council.rules import calendar

    start = date(2026, 1, 5)
    monkeypatch.setattr(calendar, "is_quiet", lambda day, _policy: (day - start).days < quiet_days)
    assert next_working_day(start, POLICY) == expected


def test_a_policy_that_makes_every_day_quiet_raises(monkeypatch: pytest.MonkeyPatch) -> None:
    """With 400 quiet days in a row the search stops with a ValueError that says why."""
    from council.rules import calendar

    start = date(2026, 1, 5)
    monkeypatch.setattr(calendar, "is_quiet", lambda day, _policy: (day - start).days < 400)
    with pytest.raises(ValueError) as caught:
        next_working_day(start, POLICY)
    assert str(caught.value) == "no working day within 400 days: the policy makes every day quiet"
