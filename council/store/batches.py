"""The batches of one send, shared by the flow runs that work on it (see ``SendBatch``).

A run claims the lowest batch nobody has with a compare-and-set UPDATE, as the outbox claims a
message, so two runs on two machines never take the same batch. Claiming is only about sharing the
work: if two runs did render the same bodies, the outbox would still queue and send each email once.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from models.clock import now
from models.results import DeliveryReport
from models.tables import SendBatch


def plan_batches(*, session: Session, campaign: str, batches: list[list[str]]) -> None:
    """Store a send's batches, none claimed yet (in the caller's transaction)."""
    session.add_all(
        SendBatch(campaign=campaign, position=i, body_ids=list(batch)) for i, batch in enumerate(batches)
    )


def claim_batch(*, session: Session, campaign: str, claimer: str) -> tuple[int, list[str]] | None:
    """Take the first batch nobody has and commit: its position and body ids; None when every
    batch is taken."""
    while True:
        position = session.scalar(
            select(SendBatch.position)
            .where(SendBatch.campaign == campaign, SendBatch.claimed_by.is_(None))
            .order_by(SendBatch.position)
            .limit(1)
        )
        if position is None:
            session.commit()
            return None
        taken = session.execute(
            update(SendBatch)
            .where(
                SendBatch.campaign == campaign,
                SendBatch.position == position,
                SendBatch.claimed_by.is_(None),
            )
            .values(claimed_by=claimer, claimed_at=now())
            .returning(SendBatch.body_ids)
            .execution_options(synchronize_session=False)
        ).scalar_one_or_none()
        session.commit()
        if taken is not None:
            return position, list(taken)
        # another run took it between the two statements: try the next one


def finish_batch(*, session: Session, campaign: str, position: int, report: DeliveryReport) -> None:
    """Record what a claimed batch's delivery did (in the caller's transaction)."""
    session.execute(
        update(SendBatch)
        .where(SendBatch.campaign == campaign, SendBatch.position == position)
        .values(report=report.model_dump(mode="json"))
        .execution_options(synchronize_session=False)
    )


def release_unfinished(*, session: Session, campaign: str, claimers: list[str]) -> int:
    """Put back the batches ``claimers`` took and did not finish (their runs ended without them), so
    another run takes them; returns how many. Commits."""
    released = session.execute(
        update(SendBatch)
        .where(
            SendBatch.campaign == campaign,
            SendBatch.claimed_by.in_(claimers),
            SendBatch.report.is_(None),
        )
        .values(claimed_by=None, claimed_at=None)
        .execution_options(synchronize_session=False)
    ).rowcount
    session.commit()
    return released


def unfinished_claims(*, session: Session, campaign: str) -> dict[str, datetime]:
    """Who holds a batch that is not done yet, and since when (their oldest claim)."""
    rows = session.execute(
        select(SendBatch.claimed_by, func.min(SendBatch.claimed_at))
        .where(
            SendBatch.campaign == campaign,
            SendBatch.claimed_by.is_not(None),
            SendBatch.report.is_(None),
        )
        .group_by(SendBatch.claimed_by)
    )
    return {claimer: at for claimer, at in rows}


def campaign_report(*, session: Session, campaign: str) -> DeliveryReport:
    """Every finished batch's report folded into one, in batch order."""
    total = DeliveryReport()
    for report in session.scalars(
        select(SendBatch.report)
        .where(SendBatch.campaign == campaign, SendBatch.report.is_not(None))
        .order_by(SendBatch.position)
    ):
        total.add(DeliveryReport.model_validate(report))
    return total


def forget_campaign(*, session: Session, campaign: str) -> None:
    """A send is over: its work list goes (what was sent stays in the outbox and the events)."""
    session.execute(delete(SendBatch).where(SendBatch.campaign == campaign))
