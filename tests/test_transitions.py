"""The workflow's allowed status changes, the outcomes that keep a point open, and finality."""

from __future__ import annotations

from datetime import date

import pytest

from council.errors import InvalidTransitionError
from council.rules.transitions import check_transition, effective_status, final_from, status_after
from models.enums import STATUS_LABEL_FI, Outcome
from models.enums import DecisionStatus as S

ALLOWED = {
    (S.not_sent, S.sent),
    (S.sent, S.reminded),
    (S.sent, S.on_agenda),
    (S.sent, S.decided),
    (S.reminded, S.reminded),
    (S.reminded, S.on_agenda),
    (S.reminded, S.decided),
    (S.on_agenda, S.reminded),
    (S.on_agenda, S.on_agenda),
    (S.on_agenda, S.decided),
    (S.decided, S.decided),
}
PAIRS = [(a, b) for a in S for b in S]


@pytest.mark.parametrize(("old", "new"), [p for p in PAIRS if p in ALLOWED], ids=lambda s: s.value)
def test_allowed_transitions_pass(old: S, new: S) -> None:
    """Each change of the workflow diagram is accepted."""
    check_transition("jokioinen", 1, old, new)


@pytest.mark.parametrize(("old", "new"), [p for p in PAIRS if p not in ALLOWED], ids=lambda s: s.value)
def test_refused_transitions_name_body_point_from_and_to(old: S, new: S) -> None:
    """Every other change raises, naming the body, the point, the old and the new state in Finnish
    (never the internal names such as not_sent or on_agenda)."""
    with pytest.raises(InvalidTransitionError) as caught:
        check_transition("jokioinen", 3, old, new)
    message = str(caught.value)
    assert "jokioinen" in message and "kohta 3" in message
    assert f"tilasta '{STATUS_LABEL_FI[old]}' ei voi siirtyä tilaan '{STATUS_LABEL_FI[new]}'" in message
    assert "_" not in message and "→" not in message


@pytest.mark.parametrize("outcome", list(Outcome), ids=[o.name for o in Outcome])
def test_tabled_returned_and_withdrawn_keep_the_point_open(outcome: Outcome) -> None:
    """Tabled, returned and withdrawn outcomes leave the point on the agenda; the rest decide it."""
    expected = (
        S.on_agenda if outcome in {Outcome.poydalle, Outcome.palautettu, Outcome.poistettu} else S.decided
    )
    assert status_after(outcome) == expected


def test_decision_is_final_after_the_fourteen_day_window() -> None:
    """Decided on 15.3.2021: still `decided` on 29.3., `final` from 30.3.; open states never final."""
    meeting = date(2021, 3, 15)
    assert final_from(meeting) == date(2021, 3, 30)
    assert effective_status(S.decided, meeting, date(2021, 3, 29)) == S.decided
    assert effective_status(S.decided, meeting, date(2021, 3, 30)) == S.final
    assert effective_status(S.on_agenda, meeting, date(2022, 1, 1)) == S.on_agenda
    assert effective_status(S.decided, None, date(2022, 1, 1)) == S.decided
