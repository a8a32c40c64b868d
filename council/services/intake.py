"""Decision candidates: what replies and publications say the bodies decided, until the coordinator
confirms or rejects each one (issue 16).

A finding is stored as a pending :class:`~models.tables.Candidate` with the sentence it came from;
nothing is recorded silently. Confirming records it through the same path as a typed decision
(:func:`council.store.decisions.record_decision` with a :class:`~models.decisions.DecisionIn`, so the
same validation and events, and the duty description and thank-you follow in the after-decision
step); an agenda candidate marks the body's open points on that meeting's agenda. Reading a source
again adds nothing: a candidate is unique per (proposal, body, kind, point, source).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from council.errors import CouncilError, field_problems
from council.intake.minutes import Reading, concerns, items_of, read_item
from council.rules.formatting import HELSINKI, fi_date
from council.rules.freshness import source_silent
from council.store.decisions import duties_point, mark_on_agenda, record_decision
from council.store.tracking import add_event, now
from models.decisions import DecisionIn, LiaisonIn
from models.enums import (
    ACTIVE_STATES,
    CandidateKind,
    CandidateState,
    DecisionStatus,
    EventKind,
    Outcome,
    ProposalState,
)
from models.tables import Body, Candidate, Decision, Event, IntakeSource, Point, Proposal, Recipient

#: How much of the evidence sentence is kept (and shown in a form's choice label).
EVIDENCE_CHARS = 600
FORM_EVIDENCE_CHARS = 160


class CandidateError(CouncilError):
    """A candidate that cannot be confirmed or rejected (unknown, already settled, invalid)."""


@dataclass(frozen=True)
class Item:
    """One text to read for one source: a reply's attachment or body, a published item."""

    text: str
    source: str  # what the coordinator reads, e.g. "vastaus.eml: poytakirjanote.pdf"
    source_ref: str  # Message-ID or URL: one candidate per finding per source
    link: str | None = None  # an http(s) address of the minutes, when there is one


def _numbers(session: Session, proposal: Proposal, body_id: str, one_proposal: bool) -> tuple[str, ...]:
    """The case numbers an item about ``proposal`` may quote: ours, and the body's own when the
    item can concern only this proposal (a combined reminder's case number is shared)."""
    numbers = [proposal.diary_number or ""]
    if one_proposal:
        recipient = session.get(Recipient, (proposal.id, body_id))
        numbers.append(recipient.case_number if recipient and recipient.case_number else "")
    return tuple(n for n in numbers if n)


def _is_news(
    session: Session, proposal_id: str, body_id: str, point: int | None, outcome: str | None, day: date
) -> bool:
    """False when the cell already says this (a candidate would only repeat a recorded fact)."""
    stmt = select(Decision).where(Decision.proposal_id == proposal_id, Decision.body_id == body_id)
    if point is not None:
        stmt = stmt.where(Decision.point_number == point)
    cells = session.scalars(stmt).all()
    if not cells:
        return False  # the proposal was never sent to this body: nothing to find
    if point is None:  # an agenda: news while some point is open and not already on that agenda
        return any(
            c.status in (DecisionStatus.sent.value, DecisionStatus.reminded.value)
            or (c.status == DecisionStatus.on_agenda.value and c.meeting_date != day)
            for c in cells
        )
    cell = cells[0]
    return not (cell.outcome == outcome and cell.meeting_date == day)


def _add(session: Session, candidate: Candidate, actor: str) -> bool:
    exists = session.scalar(
        select(Candidate.id).where(
            Candidate.proposal_id == candidate.proposal_id,
            Candidate.body_id == candidate.body_id,
            Candidate.kind == candidate.kind,
            Candidate.point.is_(None) if candidate.point is None else Candidate.point == candidate.point,
            Candidate.source_ref == candidate.source_ref,
        )
    )
    if exists is not None:
        return False
    session.add(candidate)
    session.flush()
    add_event(
        session=session,
        kind=EventKind.candidate_found,
        actor=actor,
        proposal_id=candidate.proposal_id,
        body_id=candidate.body_id,
        point_number=candidate.point,
        data={
            "candidate": candidate.id,
            "kind": candidate.kind,
            "outcome": candidate.outcome,
            "source": candidate.source,
        },
    )
    return True


def _store(
    session: Session, *, proposal: Proposal, body: Body, reading: Reading, item: Item, actor: str
) -> list[Candidate]:
    made: list[Candidate] = []
    assert reading.meeting_date is not None
    common = {
        "proposal_id": proposal.id,
        "body_id": body.id,
        "meeting_date": reading.meeting_date,
        "section": reading.section,
        "deciding_body": reading.deciding_body,
        "source": item.source[:500],
        "source_ref": item.source_ref[:500],
        "link": item.link,
        "state": CandidateState.pending.value,
        "found_at": now(),
    }
    # "Kunnanhallitus" in Jokioinen's minutes is the roster's "Jokioisten kunnanhallitus".
    found_body = reading.deciding_body
    if found_body and body.deciding_body.casefold().endswith(found_body.casefold()):
        common["deciding_body"] = body.deciding_body
    recipient = session.get(Recipient, (proposal.id, body.id))
    case = recipient.case_number if recipient else None
    if reading.decided:
        for found in reading.found:
            if not _is_news(
                session, proposal.id, body.id, found.point, found.outcome.value, reading.meeting_date
            ):
                continue
            candidate = Candidate(
                kind=CandidateKind.decision.value,
                point=found.point,
                outcome=found.outcome.value,
                liaison_name=found.liaison_name,
                case_number=case,
                evidence=found.sentence[:EVIDENCE_CHARS],
                **common,
            )
            if _add(session, candidate, actor):
                made.append(candidate)
    elif reading.agenda and _is_news(session, proposal.id, body.id, None, None, reading.meeting_date):
        candidate = Candidate(
            kind=CandidateKind.agenda.value,
            point=None,
            evidence=f"Esityslistalla {fi_date(reading.meeting_date)}"
            + (f" § {reading.section}" if reading.section else "")
            + f": {item.source}",
            **common,
        )
        if _add(session, candidate, actor):
            made.append(candidate)
    return made


def find_candidates(
    session: Session, *, pairs: list[tuple[str, str]], items: list[Item], actor: str, published: bool = False
) -> tuple[list[Candidate], list[str]]:
    """Read each item for each (proposal, body) it may concern; store what is new. Returns the
    candidates made and Finnish lines on items that were about a proposal but could not be read
    (a decision without a date or section, sentences not understood). ``published``: the items
    come from a publication, so a title alone does not tie one to us (see ``concerns``)."""
    made: list[Candidate] = []
    notes: list[str] = []
    for proposal_id, body_id in pairs:
        proposal = session.get_one(Proposal, proposal_id)
        body = session.get_one(Body, body_id)
        points = session.scalar(
            select(Point.number).where(Point.proposal_id == proposal_id).order_by(Point.number.desc())
        )
        if not points:
            continue
        numbers = _numbers(session, proposal, body_id, one_proposal=len(pairs) == 1)
        content = proposal.content or {}
        duties = duties_point(session=session, proposal_id=proposal_id)
        for whole in items:
            for text in items_of(whole.text):  # a PDF of a whole meeting: only our item is read
                if not concerns(
                    text,
                    title=proposal.title,
                    short_title=str(content.get("short_title") or ""),
                    numbers=numbers,
                    sender=proposal.sender if published else None,
                ):
                    continue
                item = Item(text=text, source=whole.source, source_ref=whole.source_ref, link=whole.link)
                reading = read_item(text, points=points, duties_point=duties)
                if not (reading.decided or reading.agenda):
                    continue
                if reading.meeting_date is None or (reading.decided and reading.section is None):
                    notes.append(
                        f"{body.name}: {item.source}: kokouspäivää tai pykälää ei tunnistettu; kirjaa päätös käsin"
                    )
                    continue
                made += _store(session, proposal=proposal, body=body, reading=reading, item=item, actor=actor)
                notes += [
                    f"{body.name}: {item.source}: lausetta ei tulkittu: {s[:200]}"
                    for s in reading.not_understood
                ]
    return made, notes


def describe(candidate: Candidate, body_name: str, *, evidence_chars: int = EVIDENCE_CHARS) -> str:
    """One Finnish line: "#3 Jokioisten kunta, kohta 1: hyväksytty … (12.5.2026 § 45)"."""
    where = fi_date(candidate.meeting_date) + (f" § {candidate.section}" if candidate.section else "")
    if candidate.kind == CandidateKind.agenda.value:
        what = f"esityslistalla {where}"
    else:
        liaison = f", yhdyshenkilö {candidate.liaison_name}" if candidate.liaison_name else ""
        what = f"kohta {candidate.point}: {candidate.outcome} ({where}{liaison})"
    evidence = " ".join(candidate.evidence.split())
    if len(evidence) > evidence_chars:
        evidence = evidence[: evidence_chars - 1].rstrip() + "…"
    return f"#{candidate.id} {body_name}, {what}: ”{evidence}”"


def pending(session: Session, proposal_id: str | None = None) -> list[Candidate]:
    stmt = select(Candidate).where(Candidate.state == CandidateState.pending.value)
    if proposal_id is not None:
        stmt = stmt.where(Candidate.proposal_id == proposal_id)
    return list(
        session.scalars(
            stmt.order_by(Candidate.proposal_id, Candidate.body_id, Candidate.point, Candidate.id)
        )
    )


def _pending_one(session: Session, candidate_id: int) -> Candidate:
    candidate = session.get(Candidate, candidate_id)
    if candidate is None:
        raise CandidateError(f"Löydöstä #{candidate_id} ei ole; katso avoimet: council candidates")
    if candidate.state != CandidateState.pending.value:
        done = "vahvistettu" if candidate.state == CandidateState.confirmed.value else "hylätty"
        raise CandidateError(f"Löydös #{candidate_id} on jo {done} ({candidate.settled_by})")
    return candidate


def _settle(
    session: Session, candidate: Candidate, state: CandidateState, actor: str, **data: object
) -> None:
    candidate.state, candidate.settled_at, candidate.settled_by = state.value, now(), actor
    add_event(
        session=session,
        kind=EventKind.candidate_confirmed
        if state == CandidateState.confirmed
        else EventKind.candidate_rejected,
        actor=actor,
        proposal_id=candidate.proposal_id,
        body_id=candidate.body_id,
        point_number=candidate.point,
        data={"candidate": candidate.id, **data},
    )


def confirm(
    session: Session, candidate_id: int, *, actor: str, liaison: LiaisonIn | None = None
) -> Candidate:
    """Record a pending candidate as the coordinator's decision (or agenda date); see the module
    docstring. The other pending candidates that say the same (same cell, outcome and meeting) are
    settled with it; ones that say something else stay for the coordinator."""
    candidate = _pending_one(session, candidate_id)
    body = session.get_one(Body, candidate.body_id)
    proposal = session.get_one(Proposal, candidate.proposal_id)
    if ProposalState(proposal.state) not in ACTIVE_STATES:
        raise CandidateError(
            f"Löydös #{candidate.id} koskee esitystä {proposal.id}, joka ei ole enää seurannassa; hylkää löydös"
        )
    if candidate.kind == CandidateKind.agenda.value:
        decided = session.scalar(
            select(Decision.point_number).where(
                Decision.proposal_id == candidate.proposal_id,
                Decision.body_id == candidate.body_id,
                Decision.outcome.is_not(None),
                Decision.meeting_date >= candidate.meeting_date,
            )
        )
        if decided is not None:
            raise CandidateError(
                f"Löydös #{candidate.id}: {body.name} on jo päättänyt kohdasta {decided} tässä tai myöhemmässä "
                "kokouksessa; esityslistamerkintä pyyhkisi päätöksen. Hylkää löydös."
            )
        mark_on_agenda(
            session=session,
            proposal_id=candidate.proposal_id,
            body_id=candidate.body_id,
            points=[],
            meeting_date=candidate.meeting_date,
            actor=actor,
        )
    else:
        note = f"Löydetty: {candidate.source}"
        if candidate.liaison_name and liaison is None:
            note += f". Pöytäkirjan mukaan järjestöyhdyshenkilö: {candidate.liaison_name}"
        try:
            decision = DecisionIn.for_proposal(
                duties_point(session=session, proposal_id=candidate.proposal_id),
                body_id=candidate.body_id,
                point=candidate.point,
                outcome=Outcome(candidate.outcome),
                meeting_date=candidate.meeting_date,
                section=candidate.section,
                deciding_body=candidate.deciding_body,
                diary_number=candidate.case_number,
                minutes_url=candidate.link
                if candidate.link and candidate.link.startswith(("http://", "https://"))
                else None,
                note=note[:2000],
                liaison=liaison,
                recorded_by=actor[:200],
            )
        except ValidationError as exc:
            problems = "; ".join(field_problems(exc, DecisionIn))
            raise CandidateError(
                f"Löydöstä #{candidate.id} ({body.name}) ei voi kirjata: {problems}"
            ) from exc
        record_decision(session=session, proposal_id=candidate.proposal_id, decision=decision)
    _settle(session, candidate, CandidateState.confirmed, actor)
    same = select(Candidate).where(
        Candidate.state == CandidateState.pending.value,
        Candidate.proposal_id == candidate.proposal_id,
        Candidate.body_id == candidate.body_id,
        Candidate.kind == candidate.kind,
        Candidate.meeting_date == candidate.meeting_date,
    )
    for twin in session.scalars(same):
        if twin.point == candidate.point and twin.outcome == candidate.outcome:
            _settle(session, twin, CandidateState.confirmed, actor, same_as=candidate.id)
    if candidate.kind == CandidateKind.decision.value:
        # The agenda of this meeting (or an earlier one) is history once its decision is recorded:
        # confirming it later would put the decided point back on the agenda.
        agendas = select(Candidate).where(
            Candidate.state == CandidateState.pending.value,
            Candidate.proposal_id == candidate.proposal_id,
            Candidate.body_id == candidate.body_id,
            Candidate.kind == CandidateKind.agenda.value,
            Candidate.meeting_date <= candidate.meeting_date,
        )
        for agenda in session.scalars(agendas):
            _settle(
                session,
                agenda,
                CandidateState.rejected,
                actor,
                reason=f"päätös vahvistettu (#{candidate.id})",
            )
    return candidate


def reject(session: Session, candidate_id: int, *, actor: str, reason: str | None = None) -> Candidate:
    """Set a pending candidate aside; nothing is recorded. The reason is kept in the event."""
    candidate = _pending_one(session, candidate_id)
    _settle(session, candidate, CandidateState.rejected, actor, reason=(reason or "")[:500])
    return candidate


def choice_labels(session: Session) -> list[str]:
    """The pending candidates as a form offers them: "#id body, point: outcome (date §): ”evidence”",
    with the proposal's short title first when candidates of several proposals wait."""
    found = pending(session)
    names = {b.id: b.name for b in session.scalars(select(Body))}
    several = len({c.proposal_id for c in found}) > 1
    titles = {
        p.id: str((p.content or {}).get("short_title") or p.id)
        for p in session.scalars(select(Proposal).where(Proposal.id.in_({c.proposal_id for c in found})))
    }
    labels = []
    for candidate in found:
        label = describe(candidate, names[candidate.body_id], evidence_chars=FORM_EVIDENCE_CHARS)
        if several:
            number, rest = label.split(" ", 1)
            label = f"{number} [{titles[candidate.proposal_id]}] {rest}"
        labels.append(label)
    return labels


def label_number(label: str) -> int:
    """The candidate number a form's label starts with ("#12 …" → 12)."""
    head = label.strip().split(" ", 1)[0]
    if not (head.startswith("#") and head[1:].isdigit()):
        raise CandidateError(f"{label[:80]!r}: valitse löydös luettelosta (alkaa #-numerolla)")
    return int(head[1:])


def names_liaison(session: Session, candidate_id: int) -> bool:
    """Whether a candidate is a decision on its proposal's duties point (the one a liaison belongs to)."""
    candidate = session.get(Candidate, candidate_id)
    return (
        candidate is not None
        and candidate.kind == CandidateKind.decision.value
        and candidate.point == duties_point(session=session, proposal_id=candidate.proposal_id)
    )


@dataclass(frozen=True)
class SourceReport:
    """The decision sources as the weekly digest reports them: the silent ones, in Finnish, and how
    many candidates wait for the coordinator."""

    silent: list[str]
    waiting: int

    def lines(self) -> list[str]:
        if not self.waiting:
            return list(self.silent)
        found = "löydetty päätös" if self.waiting == 1 else "löydettyä päätöstä"
        return [*self.silent, f"{self.waiting} {found} odottaa vahvistusta (Prefect: confirm-candidates)"]


def source_report(session: Session, today: date) -> SourceReport:
    """Each source silent for days ("lähde ei vastaa": a body's publication, the mailbox) and the
    number of candidates waiting."""
    silent: list[str] = []
    names = {b.id: b.name for b in session.scalars(select(Body))}
    for source in session.scalars(select(IntakeSource).order_by(IntakeSource.id)):
        if source_silent(source.failing_since, today):
            since = fi_date(source.failing_since.astimezone(HELSINKI).date())
            silent.append(
                f"{names.get(source.body_id or '', source.id)}: julkaisulähde ei vastaa {since} alkaen "
                f"({source.address}): {(source.last_error or '').strip()[:200]}"
            )
    mailbox = mailbox_failing_since(session)
    if mailbox is not None and source_silent(mailbox[0], today):
        since = fi_date(mailbox[0].astimezone(HELSINKI).date())
        silent.append(f"Postilaatikko {mailbox[1]}: lähde ei vastaa {since} alkaen: {mailbox[2][:200]}")
    return SourceReport(silent=silent, waiting=len(pending(session)))


def mailbox_failing_since(session: Session) -> tuple[datetime, str, str] | None:
    """When the mailbox stopped answering (its first failed reading after the last good one), its
    host and the last error; None while it answers or was never read."""
    kinds = (EventKind.mailbox_read.value, EventKind.mailbox_failed.value)
    last_ok = (
        session.scalar(select(func.max(Event.id)).where(Event.kind == EventKind.mailbox_read.value)) or 0
    )
    failed = session.execute(
        select(Event.occurred_at, Event.data)
        .where(Event.kind.in_(kinds), Event.kind == EventKind.mailbox_failed.value, Event.id > last_ok)
        .order_by(Event.id)
    ).all()
    if not failed:
        return None
    data = failed[-1].data or {}
    return failed[0].occurred_at, str(data.get("host") or ""), str(data.get("error") or "")
