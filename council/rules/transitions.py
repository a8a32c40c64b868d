"""The workflow states of one body × point and which changes between them are allowed.

::

    not_sent → sent → reminded ⟲ → on_agenda ⟲ → decided ⟲ (correction) ··→ final (computed)
                 └────────┴───────────┴──────────────↗

``final`` is never stored or typed in: a decided point becomes final once its rectification
window (``RECTIFICATION_DAYS`` after the meeting) has passed; see :func:`effective_status`.
"""

from __future__ import annotations

from datetime import date, timedelta

from council.errors import InvalidTransitionError
from models.enums import OPEN_OUTCOMES, RECTIFICATION_DAYS, DecisionStatus, Outcome

S = DecisionStatus
ALLOWED: dict[DecisionStatus, frozenset[DecisionStatus]] = {
    S.not_sent: frozenset({S.sent}),
    S.sent: frozenset({S.reminded, S.on_agenda, S.decided}),
    S.reminded: frozenset({S.reminded, S.on_agenda, S.decided}),
    S.on_agenda: frozenset({S.reminded, S.on_agenda, S.decided}),
    S.decided: frozenset({S.decided}),
    S.final: frozenset(),
}


def check_transition(body_id: str, point: int, old: DecisionStatus, new: DecisionStatus) -> None:
    """Raise :class:`InvalidTransitionError` naming body, point, from and to, unless allowed."""
    if new not in ALLOWED[old]:
        raise InvalidTransitionError(body_id, point, old.value, new.value)


def status_after(outcome: Outcome) -> DecisionStatus:
    """A tabled, returned or withdrawn point stays open (on the agenda); any other is decided."""
    return S.on_agenda if outcome in OPEN_OUTCOMES else S.decided


def final_from(meeting_date: date) -> date:
    """The first day on which a decision made at ``meeting_date`` is final."""
    return meeting_date + timedelta(days=RECTIFICATION_DAYS + 1)


def effective_status(stored: DecisionStatus, meeting_date: date | None, today: date) -> DecisionStatus:
    """The stored status, or ``final`` once a decided point's rectification window has passed."""
    if stored == S.decided and meeting_date is not None and today >= final_from(meeting_date):
        return S.final
    return stored
