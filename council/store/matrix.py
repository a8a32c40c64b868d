"""The matrix as the follow-up and the reports need it: every body's cells and message history for
one proposal, read in one SQL statement whatever the number of bodies.
"""

from __future__ import annotations

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from council.perf import gc_paused
from council.rules.reminders import BodyState, Cell
from models.enums import MessageKind, MessageState
from models.tables import Decision, Message, Recipient


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
            func.coalesce(messages.c.sent_on, Recipient.sent_outside_on).label("sent_on"),
            messages.c.reminders,
            messages.c.last_reminder_on,
            messages.c.confirmations,
        )
        .outerjoin(messages, messages.c.body_id == Decision.body_id)
        .outerjoin(
            Recipient, (Recipient.proposal_id == Decision.proposal_id) & (Recipient.body_id == Decision.body_id)
        )
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
