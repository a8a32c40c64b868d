"""The decision matrix and its event log: syncing content into the database, status changes.

Data functions take a keyword-only ``session``; the caller owns the transaction.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime

from pydantic import BaseModel
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from council.errors import UnknownBodyError, UnknownProposalError
from council.store.recipients import recipient_ids
from models.clock import HELSINKI, now
from models.enums import STATUS_LABEL_FI, DecisionStatus, EventKind, MessageKind, MessageState, ProposalState
from models.schemas import ProposalIn, RosterIn
from models.tables import NO_DUTIES_POINT, Body, Decision, Event, Message, Point, Proposal, Recipient


def add_event(
    *,
    session: Session,
    kind: EventKind,
    actor: str,
    proposal_id: str | None = None,
    body_id: str | None = None,
    point_number: int | None = None,
    data: dict | None = None,
) -> None:
    """Append one event; events are never updated or deleted."""
    session.add(
        Event(
            occurred_at=now(),
            proposal_id=proposal_id,
            body_id=body_id,
            point_number=point_number,
            kind=kind.value,
            actor=actor,
            data=data or {},
        )
    )


def sync_content(
    *,
    session: Session,
    proposal: ProposalIn,
    roster: RosterIn,
    actor: str,
    recipients: list[str] | None = None,
) -> int:
    """Store the proposal (its content too), its points and the roster's bodies; create the missing
    matrix cells of its recipients.

    ``recipients`` (roster ids) chooses the bodies the proposal goes to; a later sync without it keeps
    that choice and may only add to it. A proposal whose recipients were never chosen goes to every
    body of the roster, including one added to the roster later. Existing decisions are never
    touched. Returns the number of new matrix cells.
    """
    digest = hashlib.sha256(json.dumps(proposal.model_dump(mode="json"), sort_keys=True).encode()).hexdigest()
    row = session.get(Proposal, proposal.id)
    if row is None:
        row = Proposal(id=proposal.id, created_at=now())
        session.add(row)
    if row.content_sha256 != digest:
        add_event(
            session=session,
            kind=EventKind.proposal_synced,
            actor=actor,
            proposal_id=proposal.id,
            data={"sha256": digest},
        )
    row.title, row.sender, row.preparer, row.content_sha256 = (
        proposal.title,
        proposal.sender,
        proposal.preparer,
        digest,
    )
    row.duties_point = proposal.duties_point or NO_DUTIES_POINT
    row.diary_number = proposal.diary_number
    row.content = proposal.model_dump(mode="json")
    if row.state is None:
        row.state = ProposalState.draft.value
    points = {p.number: p for p in session.scalars(select(Point).where(Point.proposal_id == proposal.id))}
    for p in proposal.points:
        point = points.get(p.number) or Point(proposal_id=proposal.id, number=p.number)
        point.title, point.short_title = p.title, p.short_title
        session.add(point)

    bodies = {
        b.id: b for b in session.scalars(select(Body).where(Body.id.in_([b.id for b in roster.bodies])))
    }
    for b in roster.bodies:
        values = {
            "name": b.name,
            "name_genitive": b.name_genitive,
            "name_inessive": b.name_inessive,
            "kind": b.kind.value,
            "deciding_body": b.deciding_body,
            "registry_email": str(b.registry_email),
            "language": b.language.value,
            "publication_system": b.publication.system.value if b.publication else None,
            "publication_url": str(b.publication.address) if b.publication else None,
        }
        body = bodies.get(b.id)
        if body is None:
            body = Body(id=b.id, updated_at=now(), **values)
            session.add(body)
            add_event(session=session, kind=EventKind.body_synced, actor=actor, body_id=b.id, data=values)
        elif any(getattr(body, k) != v for k, v in values.items()):
            changed = {k: v for k, v in values.items() if getattr(body, k) != v}
            for k, v in values.items():
                setattr(body, k, v)
            body.updated_at = now()
            add_event(session=session, kind=EventKind.body_synced, actor=actor, body_id=b.id, data=changed)
    session.flush()

    chosen = _recipients(session=session, row=row, roster=roster, wanted=recipients, actor=actor)
    existing = {
        (body_id, number)
        for body_id, number in session.execute(
            select(Decision.body_id, Decision.point_number).where(Decision.proposal_id == proposal.id)
        )
    }
    created = 0
    for b in roster.bodies:
        if b.id not in chosen:
            continue
        for p in proposal.points:
            if (b.id, p.number) not in existing:
                session.add(
                    Decision(
                        proposal_id=proposal.id,
                        body_id=b.id,
                        point_number=p.number,
                        status=DecisionStatus.not_sent.value,
                        updated_at=now(),
                    )
                )
                created += 1
    session.flush()
    return created


def _recipients(
    *, session: Session, row: Proposal, roster: RosterIn, wanted: list[str] | None, actor: str
) -> set[str]:
    """The proposal's recipients after this sync, each with its ``recipient`` row."""
    have = {r.body_id: r for r in session.scalars(select(Recipient).where(Recipient.proposal_id == row.id))}
    if wanted is not None:
        row.recipients_chosen = True
        chosen = set(have) | set(wanted)
    elif row.recipients_chosen:
        chosen = set(have)
    else:
        chosen = set(have) | {b.id for b in roster.bodies}
    added = sorted(chosen - set(have))
    for body_id in added:
        session.add(Recipient(proposal_id=row.id, body_id=body_id, updated_at=now()))
    if added and wanted is not None:
        add_event(
            session=session,
            kind=EventKind.recipients_chosen,
            actor=actor,
            proposal_id=row.id,
            data={"added": added},
        )
    session.flush()
    return chosen


def _advance(
    *,
    session: Session,
    proposal_id: str,
    body_id: str,
    old: DecisionStatus,
    new: DecisionStatus,
    actor: str,
    data: dict,
) -> int:
    """Move every cell of a body in state ``old`` to ``new`` (set-based); one event per changed cell."""
    where = (
        Decision.proposal_id == proposal_id,
        Decision.body_id == body_id,
        Decision.status == old.value,
    )
    numbers = list(
        session.scalars(
            update(Decision)
            .where(*where)
            .values(status=new.value, updated_at=now(), version=Decision.version + 1)
            .returning(Decision.point_number)
            .execution_options(synchronize_session=False)
        )
    )
    if not numbers:
        return 0
    numbers.sort()
    if new == DecisionStatus.sent:
        _under_way(session=session, proposal_id=proposal_id, actor=actor)
    for number in numbers:
        add_event(
            session=session,
            kind=EventKind.status_changed,
            actor=actor,
            proposal_id=proposal_id,
            body_id=body_id,
            point_number=number,
            data={"old": old.value, "new": new.value, **data},
        )
    return len(numbers)


def _under_way(*, session: Session, proposal_id: str, actor: str) -> None:
    """A draft proposal becomes sent when it first reaches a body (by mail or outside the service)."""
    state = session.scalar(select(Proposal.state).where(Proposal.id == proposal_id))
    if state == ProposalState.draft.value:
        set_state(session=session, proposal_id=proposal_id, state=ProposalState.sent, actor=actor)


def set_state(
    *, session: Session, proposal_id: str, state: ProposalState, actor: str, reason: str | None = None
) -> bool:
    """Move the proposal to ``state``; False when it already is there. Closing stamps the time and
    the reason; every change is an event."""
    row = session.get(Proposal, proposal_id)
    if row is None:
        raise UnknownProposalError(proposal_id, "Esitystä ei ole tallennettu.")
    if row.state == state.value:
        return False
    old = row.state
    row.state = state.value
    if state == ProposalState.closed:
        row.closed_at, row.close_reason = now(), reason
    add_event(
        session=session,
        kind=EventKind.proposal_state_changed,
        actor=actor,
        proposal_id=proposal_id,
        data={"from": old, "to": state.value} | ({"reason": reason} if reason else {}),
    )
    return True


def mark_sent(*, session: Session, proposal_id: str, body_id: str, actor: str, message_id: str) -> int:
    """The proposal reached the body: its ``not_sent`` cells become ``sent``."""
    return _advance(
        session=session,
        proposal_id=proposal_id,
        body_id=body_id,
        old=DecisionStatus.not_sent,
        new=DecisionStatus.sent,
        actor=actor,
        data={"message_id": message_id},
    )


def sending_day(*, session: Session, proposal_id: str, body_id: str) -> date | None:
    """The day the proposal reached the body: the delivered proposal email's business day, or the day
    the coordinator gave for a sending outside the service (the earlier of the two); None when
    neither is known."""
    outside = session.scalar(
        select(Recipient.sent_outside_on).where(
            Recipient.proposal_id == proposal_id, Recipient.body_id == body_id
        )
    )
    mailed = session.execute(
        select(func.min(Message.logical_date), func.min(Message.sent_at)).where(
            Message.proposal_id == proposal_id,
            Message.body_id == body_id,
            Message.kind == MessageKind.proposal.value,
            Message.state == MessageState.sent.value,
        )
    ).one()
    day, at = mailed
    if day is None and at is not None:
        day = (at if at.tzinfo else at.replace(tzinfo=HELSINKI)).astimezone(HELSINKI).date()
    known = [d for d in (outside, day) if d is not None]
    return min(known) if known else None


def mark_sent_outside(*, session: Session, proposal_id: str, body_id: str, on: date, actor: str) -> int:
    """The proposal reached the body outside the service on ``on`` (a campaign taken over): store the
    day, which then counts as its sending day, and make its ``not_sent`` cells ``sent``."""
    row = session.get(Recipient, (proposal_id, body_id))
    if row is None:  # every recipient has its row (sync_content): this body is not one
        raise UnknownBodyError(body_id, recipient_ids(session=session, proposal_id=proposal_id))
    row.sent_outside_on, row.updated_at = on, now()
    session.flush()
    return _advance(
        session=session,
        proposal_id=proposal_id,
        body_id=body_id,
        old=DecisionStatus.not_sent,
        new=DecisionStatus.sent,
        actor=actor,
        data={"sent_outside_on": on.isoformat()},
    )


def mark_reminded(
    *, session: Session, proposal_id: str, body_id: str, actor: str, message_id: str, round_: int
) -> int:
    """A reminder reached the body: its ``sent`` cells become ``reminded`` (agenda/tabled ones stay)."""
    return _advance(
        session=session,
        proposal_id=proposal_id,
        body_id=body_id,
        old=DecisionStatus.sent,
        new=DecisionStatus.reminded,
        actor=actor,
        data={"message_id": message_id, "round": round_},
    )


class CellOut(BaseModel):
    point: int
    status: DecisionStatus
    status_label: str
    outcome: str | None
    meeting_date: str | None
    section: int | None


class BodyRowOut(BaseModel):
    body_id: str
    name: str
    cells: list[CellOut]
    messages: dict[str, str]  # "proposal/0" -> state


class MatrixOut(BaseModel):
    """The status matrix of one proposal: bodies × points (stable JSON shape, `council status --json`).

    ``{proposal_id, title, points: [{number, short_title}], bodies: [{body_id, name,
    cells: [{point, status, status_label, outcome, meeting_date (ISO), section}],
    messages: {"<kind>/<round>": state}}], generated_at}``; ``status`` is one of not_sent, sent,
    reminded, on_agenda, decided, final. New keys may be added; existing ones keep their meaning.
    """

    proposal_id: str
    title: str
    points: list[dict]
    bodies: list[BodyRowOut]
    generated_at: datetime


def status_matrix(*, session: Session, proposal_id: str, today: date | None = None) -> MatrixOut:
    """Build the matrix in a constant number of queries, whatever the number of bodies.

    A decided cell shows as ``final`` once its rectification window has passed (computed here).
    """
    from council.rules.formatting import today_helsinki
    from council.rules.transitions import effective_status

    today = today or today_helsinki()
    proposal = session.get(Proposal, proposal_id)
    if proposal is None:
        raise UnknownProposalError(proposal_id, "Aja ensin: council init")
    points = list(
        session.scalars(select(Point).where(Point.proposal_id == proposal_id).order_by(Point.number))
    )
    rows = session.execute(
        select(Decision, Body.name)
        .join(Body, Body.id == Decision.body_id)
        .where(Decision.proposal_id == proposal_id)
        .order_by(Body.name, Decision.body_id, Decision.point_number)
    ).all()
    messages: dict[str, dict[str, str]] = {}
    for body_id, kind, rnd, state in session.execute(
        select(Message.body_id, Message.kind, Message.round, Message.state).where(
            Message.proposal_id == proposal_id
        )
    ):
        messages.setdefault(body_id, {})[f"{kind}/{rnd}"] = state
    bodies: dict[str, BodyRowOut] = {}
    for decision, name in rows:
        row = bodies.setdefault(
            decision.body_id,
            BodyRowOut(
                body_id=decision.body_id, name=name, cells=[], messages=messages.get(decision.body_id, {})
            ),
        )
        status = effective_status(DecisionStatus(decision.status), decision.meeting_date, today)
        row.cells.append(
            CellOut(
                point=decision.point_number,
                status=status,
                status_label=STATUS_LABEL_FI[status],
                outcome=decision.outcome,
                meeting_date=decision.meeting_date.isoformat() if decision.meeting_date else None,
                section=decision.section,
            )
        )
    return MatrixOut(
        proposal_id=proposal_id,
        title=proposal.title,
        points=[{"number": p.number, "short_title": p.short_title} for p in points],
        bodies=list(bodies.values()),
        generated_at=now(),
    )
