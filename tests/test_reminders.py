"""The reminder rules on their own (pure, clock-free): when a body is due, what it lists, who is copied.

Proposal sent on Friday 15.5.2026; policy: first reminder after 21 days, then every 14, at most 4,
the escalation address copied from the 3rd on, deadline 90 days after sending.
"""

from __future__ import annotations

from datetime import date

import pytest

from council.rules.reminders import (
    OPEN,
    BodyState,
    Cell,
    DueReminder,
    due_reminder,
    policies,
    reminder_due_on,
)
from models.schemas import BodyIn, ProposalIn, ReminderPolicyIn, ReminderPolicyOverrideIn

CHAIR = "puheenjohtaja@forssanseutu.example"
POLICY = ReminderPolicyIn(
    first_after_days=21, interval_days=14, max_reminders=4, escalate_after=2, escalation_email=CHAIR
)
SENT = date(2026, 5, 15)  # Friday
FIRST_DUE = date(2026, 6, 5)  # Friday, 21 days later
DEADLINE = date(2026, 8, 13)  # 90 days after sending


def sent(point: int) -> Cell:
    return Cell(point, "sent", None, None, None)


def reminded(point: int) -> Cell:
    return Cell(point, "reminded", None, None, None)


def on_agenda(point: int, meeting: date, outcome: str | None = None) -> Cell:
    return Cell(point, "on_agenda", outcome, meeting, 7 if outcome else None)


def decided(point: int, meeting: date) -> Cell:
    return Cell(point, "decided", "hyväksytty ehdotuksen mukaisesti", meeting, 12)


def body(
    *cells: Cell, reminders: int = 0, last: date | None = None, sent_on: date | None = SENT
) -> BodyState:
    return BodyState("jokioinen", sent_on, reminders, last, False, list(cells))


def due(round_: int, due_on: date, points: tuple[int, ...], cc: tuple[str, ...] = ()) -> DueReminder:
    return DueReminder("jokioinen", round_, due_on, points, cc, DEADLINE)


def test_open_statuses_are_sent_reminded_and_on_agenda() -> None:
    """Sent, reminded and on-agenda points are open; not-sent, decided and final ones are not."""
    assert OPEN == ("sent", "reminded", "on_agenda")
    state = body(
        Cell(1, "not_sent", None, None, None),
        sent(2),
        reminded(3),
        on_agenda(4, date(2026, 5, 1)),
        decided(5, date(2026, 5, 1)),
        Cell(6, "final", "hylätty", date(2026, 1, 1), 3),
    )
    assert [c.point for c in state.open_cells] == [2, 3, 4]


@pytest.mark.parametrize(
    ("state", "today", "expected"),
    [
        (body(on_agenda(1, date(2026, 6, 9)), sent(2)), FIRST_DUE, None),
        (body(on_agenda(1, date(2026, 6, 9)), sent(2)), date(2026, 6, 9), None),
        (body(on_agenda(1, date(2026, 6, 9)), sent(2)), date(2026, 6, 10), due(1, FIRST_DUE, (1, 2))),
        (body(sent(1), on_agenda(2, date(2026, 6, 9))), date(2026, 6, 8), None),
        (body(decided(1, date(2026, 6, 9)), sent(2)), FIRST_DUE, due(1, FIRST_DUE, (2,))),
        (body(decided(1, FIRST_DUE), sent(2)), FIRST_DUE, due(1, FIRST_DUE, (2,))),
        (
            body(decided(1, date(2026, 6, 1)), reminded(2), on_agenda(3, date(2026, 6, 1), "pantu pöydälle")),
            FIRST_DUE,
            due(1, FIRST_DUE, (2, 3)),
        ),
        (body(decided(1, date(2026, 6, 1)), decided(2, date(2026, 6, 1))), FIRST_DUE, None),
        (body(), FIRST_DUE, None),
        (body(sent(1), sent_on=None), FIRST_DUE, None),
    ],
    ids=[
        "agenda-ahead-blocks-other-open-point",
        "meeting-day-itself-blocks",
        "day-after-meeting-lists-both",
        "agenda-point-second-still-blocks",
        "decided-point-with-later-meeting-does-not-block",
        "decided-today-not-listed",
        "tabled-and-reminded-listed-decided-not",
        "all-decided",
        "no-cells",
        "never-sent",
    ],
)
def test_bodies_with_several_cells(state: BodyState, today: date, expected: DueReminder | None) -> None:
    """Any open point on a meeting's agenda today or later holds the reminder back; only open points are listed."""
    assert due_reminder(state, POLICY, today) == expected


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (date(2026, 6, 4), None),
        (FIRST_DUE, due(1, FIRST_DUE, (1,))),
        (date(2026, 6, 6), None),
        (date(2026, 6, 8), due(1, FIRST_DUE, (1,))),
    ],
    ids=["day-before", "due-day", "saturday-after", "monday-after"],
)
def test_first_reminder_from_its_due_day_on_working_days_only(
    today: date, expected: DueReminder | None
) -> None:
    """Reminder 1 goes from the 21st day after sending on, but never on a quiet day."""
    assert due_reminder(body(sent(1)), POLICY, today) == expected


@pytest.mark.parametrize(
    ("reminders", "last", "today", "expected"),
    [
        (1, FIRST_DUE, date(2026, 6, 19), None),
        (1, FIRST_DUE, date(2026, 6, 22), due(2, date(2026, 6, 22), (1,))),
        (2, date(2026, 6, 22), date(2026, 7, 20), None),
        (2, date(2026, 6, 22), date(2026, 8, 3), due(3, date(2026, 8, 3), (1,), (CHAIR,))),
        (3, date(2026, 8, 3), date(2026, 8, 17), due(4, date(2026, 8, 17), (1,), (CHAIR,))),
        (4, date(2026, 8, 17), date(2026, 12, 1), None),
    ],
    ids=[
        "2nd-midsummer",
        "2nd-monday-after",
        "3rd-july",
        "3rd-august-escalated",
        "4th-is-the-last",
        "5th-never",
    ],
)
def test_later_rounds_skip_quiet_days_escalate_and_stop_at_the_maximum(
    reminders: int, last: date, today: date, expected: DueReminder | None
) -> None:
    """Rounds 2–4 follow the interval past holidays and July, copy the chair from round 3, and stop after 4."""
    assert due_reminder(body(sent(1), reminders=reminders, last=last), POLICY, today) == expected


@pytest.mark.parametrize(
    ("max_reminders", "reminders", "expected_round"),
    [(0, 0, None), (1, 0, 1), (1, 1, None), (2, 1, 2), (2, 2, None)],
    ids=["zero-never", "one-first", "one-done", "two-second", "two-done"],
)
def test_max_reminders_is_the_last_round(
    max_reminders: int, reminders: int, expected_round: int | None
) -> None:
    """Round n goes only while n ≤ max_reminders (long after every due day)."""
    policy = POLICY.model_copy(update={"max_reminders": max_reminders})
    state = body(sent(1), reminders=reminders, last=date(2026, 9, 1) if reminders else None)
    result = due_reminder(state, policy, date(2027, 3, 1))
    assert (result.round if result else None) == expected_round


@pytest.mark.parametrize(
    ("escalate_after", "email", "reminders", "cc"),
    [
        (2, CHAIR, 0, ("kirjaamo@forssa.example",)),
        (2, CHAIR, 1, ("kirjaamo@forssa.example",)),
        (2, CHAIR, 2, ("kirjaamo@forssa.example", CHAIR)),
        (1, CHAIR, 1, ("kirjaamo@forssa.example", CHAIR)),
        (1, CHAIR, 0, ("kirjaamo@forssa.example",)),
        (1, None, 1, ("kirjaamo@forssa.example",)),
    ],
    ids=["k2-round1", "k2-round2", "k2-round3", "k1-round2", "k1-round1", "no-escalation-address"],
)
def test_escalation_address_is_copied_after_round_k(
    escalate_after: int, email: str | None, reminders: int, cc: tuple[str, ...]
) -> None:
    """The registry copy always goes; the escalation address is added from round K+1 on, when there is one."""
    policy = POLICY.model_copy(
        update={"escalate_after": escalate_after, "escalation_email": email, "max_reminders": 10}
    )
    state = body(sent(1), reminders=reminders, last=date(2026, 9, 1) if reminders else None)
    result = due_reminder(state, policy, date(2027, 3, 1), registry_cc=("kirjaamo@forssa.example",))
    assert (result.round, result.cc) == (reminders + 1, cc)


def test_deadline_is_counted_from_sending() -> None:
    """The deadline in the reminder is sent_on + deadline_days, whatever the round."""
    policy = POLICY.model_copy(update={"deadline_days": 30})
    result = due_reminder(body(sent(1), reminders=1, last=FIRST_DUE), policy, date(2026, 6, 22))
    assert (result.round, result.deadline) == (2, date(2026, 6, 14))


@pytest.mark.parametrize(
    ("n", "last", "expected"),
    [
        (1, None, FIRST_DUE),
        (2, None, date(2026, 6, 22)),  # 19.6. Midsummer Eve, then the weekend
        (2, date(2026, 6, 1), date(2026, 6, 22)),  # nominal day later than last + 14
        (2, date(2026, 6, 12), date(2026, 6, 26)),  # last + 14 later than nominal
        (2, date(2026, 6, 5), date(2026, 6, 22)),  # equal (19.6.) then moved
        (3, None, date(2026, 8, 3)),  # 3.7. in July
        (4, None, date(2026, 8, 3)),  # 17.7. in July
    ],
    ids=["1st", "2nd", "2nd-last-early", "2nd-last-late", "2nd-last-equal", "3rd-july", "4th-july"],
)
def test_reminder_due_on(n: int, last: date | None, expected: date) -> None:
    """Reminder n falls on sent + first + (n-1)·interval, not before last + interval, moved off quiet days."""
    assert reminder_due_on(n, SENT, last, POLICY) == expected


def test_reminder_due_on_with_quiet_rules_off() -> None:
    """With no quiet days the nominal day is kept as it is, weekend or July."""
    policy = POLICY.model_copy(update={"skip_weekends": False, "skip_holidays": False, "skip_july": False})
    assert reminder_due_on(1, date(2026, 5, 16), None, policy) == date(2026, 6, 6)  # Saturday
    assert reminder_due_on(3, SENT, None, policy) == date(2026, 7, 3)


def test_body_overrides_merge_over_the_proposal_policy() -> None:
    """Each body gets the proposal's policy with only its own given fields replaced."""
    proposal = ProposalIn.model_construct(reminder_policy=POLICY)
    bodies = [
        BodyIn.model_construct(id="forssa", reminder_policy=None),
        BodyIn.model_construct(id="ypaja", reminder_policy=ReminderPolicyOverrideIn(max_reminders=1)),
    ]
    merged = policies(proposal, bodies)
    assert merged == {"forssa": POLICY, "ypaja": POLICY.model_copy(update={"max_reminders": 1})}
