"""What is known of a proposal at each body beyond its decisions: the body's own case number."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.tables import Recipient


def case_numbers(*, session: Session, proposal_id: str) -> dict[str, str]:
    """Body id -> the body's own case number (their Dnro, quoted as "Viite"), for those known."""
    return {
        body_id: number
        for body_id, number in session.execute(
            select(Recipient.body_id, Recipient.case_number).where(
                Recipient.proposal_id == proposal_id, Recipient.case_number.is_not(None)
            )
        )
        if number and number.strip()
    }


def recipient_ids(*, session: Session, proposal_id: str) -> list[str]:
    """The bodies the proposal is (to be) sent to."""
    return list(
        session.scalars(
            select(Recipient.body_id).where(Recipient.proposal_id == proposal_id).order_by(Recipient.body_id)
        )
    )
