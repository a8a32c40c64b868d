"""The follow-up engine: who is due a reminder today, what it says, and the closing thank-you.

Rules (all per proposal, each body may override the policy, see ``ReminderPolicyIn``):

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

The due bodies are selected in one SQL statement, whatever their number.
"""

from __future__ import annotations

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from council.perf import gc_paused
from council.rules.reminders import BodyState, Cell
from models.enums import MessageKind, MessageState
from models.tables import Decision, Message


def read_states(*, session: Session, proposal_id: str) -> dict[str, BodyState]:
    """Every body's cells and message history for the proposal, in one SQL statement."""
    is_proposal_sent = and_(
        Message.kind == MessageKind.proposal.value, Message.state == MessageState.sent.value
    )
    is_reminder = Message.kind == MessageKind.reminder.value
    messages = (
        select(
            Message.body_id.label("body_id"),
            func.max(case((is_proposal_sent, Message.logical_date))).label("sent_on"),
            func.count(case((is_reminder, Message.id))).label("reminders"),
            func.max(case((is_reminder, Message.logical_date))).label("last_reminder_on"),
            func.count(case((Message.kind == MessageKind.confirmation.value, Message.id))).label(
                "confirmations"
            ),
        )
        .where(Message.proposal_id == proposal_id)
        .group_by(Message.body_id)
        .subquery()
    )
    rows = session.execute(
        select(
            Decision.body_id,
            Decision.point_number,
            Decision.status,
            Decision.outcome,
            Decision.meeting_date,
            Decision.section,
            messages.c.sent_on,
            messages.c.reminders,
            messages.c.last_reminder_on,
            messages.c.confirmations,
        )
        .outerjoin(messages, messages.c.body_id == Decision.body_id)
        .where(Decision.proposal_id == proposal_id)
        .order_by(Decision.body_id, Decision.point_number)
    )
    states: dict[str, BodyState] = {}
    with gc_paused():
        _collect_states(rows, states)
    return states


def _collect_states(rows, states: dict[str, BodyState]) -> None:  # noqa: ANN001 - SQLAlchemy rows
    for row in rows:
        state = states.get(row.body_id)
        if state is None:
            state = states[row.body_id] = BodyState(
                body_id=row.body_id,
                sent_on=row.sent_on,
                reminders=row.reminders or 0,
                last_reminder_on=row.last_reminder_on,
                has_confirmation=bool(row.confirmations),
            )
        state.cells.append(Cell(row.point_number, row.status, row.outcome, row.meeting_date, row.section))
