"""When a reminder is due: pure functions of a body's state, its policy and the day (no database,
no clock). Rules (all per proposal, each body may override the policy, see ``ReminderPolicyIn``):

* reminder *n* is due on ``sent + first_after_days + (n-1)·interval_days``, but never sooner than
  ``interval_days`` after the previous reminder; a due day in a quiet period (weekend, Finnish
  public holiday, July) moves to the next working day, and nothing goes out on a quiet day;
* at most ``max_reminders``; from reminder ``escalate_after + 1`` on, the escalation address is
  copied;
* a body whose points are all decided gets no reminder; a body with an open point on the agenda
  of a meeting today or later is not reminded before the day after that meeting (nor on the day a
  point was tabled or returned);
* each reminder round is one outbox row (proposal, body, "reminder", n): a rerun on the same day,
  a task retry or two runs at once cannot make a second one.

"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from council.rules.calendar import is_quiet, next_working_day
from models.enums import DecisionStatus
from models.schemas import BodyIn, ProposalIn, ReminderPolicyIn

OPEN = (DecisionStatus.sent.value, DecisionStatus.reminded.value, DecisionStatus.on_agenda.value)


@dataclass(frozen=True)
class Cell:
    point: int
    status: str
    outcome: str | None
    meeting_date: date | None
    section: int | None


@dataclass
class BodyState:
    """What the follow-up needs to know of one body, read in the one query."""

    body_id: str
    sent_on: date | None
    reminders: int
    last_reminder_on: date | None
    has_confirmation: bool
    cells: list[Cell] = field(default_factory=list)

    @property
    def open_cells(self) -> list[Cell]:
        return [c for c in self.cells if c.status in OPEN]


@dataclass(frozen=True)
class DueReminder:
    body_id: str
    round: int
    due_on: date
    open_points: tuple[int, ...]
    cc: tuple[str, ...]
    deadline: date


def response_deadline(sent_on: date, policy: ReminderPolicyIn) -> date:
    """The day a body is asked to reply by: ``deadline_days`` after the proposal was sent to it.

    The one rule for the reply-by date in the documents and emails, the reminders' deadline and the
    dashboard's overdue flag.
    """
    return sent_on + timedelta(days=policy.deadline_days)


def reminder_due_on(n: int, sent_on: date, last_on: date | None, policy: ReminderPolicyIn) -> date:
    """The day reminder ``n`` (1-based) falls due."""
    nominal = sent_on + timedelta(days=policy.first_after_days + (n - 1) * policy.interval_days)
    if last_on is not None:
        nominal = max(nominal, last_on + timedelta(days=policy.interval_days))
    return next_working_day(nominal, policy)


def due_reminder(
    state: BodyState, policy: ReminderPolicyIn, today: date, registry_cc: tuple[str, ...] = ()
) -> DueReminder | None:
    """The reminder ``state``'s body is due today, or None (pure: no database, no clock)."""
    if state.sent_on is None or not state.open_cells or is_quiet(today, policy):
        return None
    # Not on or before the day of a meeting that has (or had today) an open point on its agenda.
    if any(c.meeting_date and c.meeting_date >= today for c in state.open_cells):
        return None
    n = state.reminders + 1
    if n > policy.max_reminders:
        return None
    due_on = reminder_due_on(n, state.sent_on, state.last_reminder_on, policy)
    if today < due_on:
        return None
    cc = registry_cc
    if n > policy.escalate_after and policy.escalation_email:
        cc = (*cc, str(policy.escalation_email))
    return DueReminder(
        body_id=state.body_id,
        round=n,
        due_on=due_on,
        open_points=tuple(c.point for c in state.open_cells),
        cc=cc,
        deadline=response_deadline(state.sent_on, policy),
    )


def policies(proposal: ProposalIn, bodies: list[BodyIn]) -> dict[str, ReminderPolicyIn]:
    return {b.id: proposal.reminder_policy.merged(b.reminder_policy) for b in bodies}
