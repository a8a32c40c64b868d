"""Recording decisions into the matrix: validation against the workflow, optimistic locking, events.

A data function takes a keyword-only ``session``; the caller owns the transaction, so several
decisions (a form with many points, an import file) are written all or nothing.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from council.errors import DecisionConflictError, InvalidDecisionError, UnknownBodyError
from council.rules.formatting import fi_date, today_helsinki
from council.rules.transitions import check_transition, status_after
from council.store.tracking import add_event, now, sending_day
from models.decisions import DecisionIn, DecisionOut, no_liaison_message
from models.enums import DecisionStatus, EventKind
from models.tables import NO_DUTIES_POINT, Body, Decision, Event, Point, Proposal

#: Cells whose point is still open (sent, reminded or on a meeting's agenda).
OPEN_STATUSES = (DecisionStatus.sent.value, DecisionStatus.reminded.value, DecisionStatus.on_agenda.value)

_RECORDED_FIELDS = (
    "status",
    "outcome",
    "deciding_body",
    "meeting_date",
    "section",
    "diary_number",
    "minutes_url",
    "note",
    "liaison",
    "recorded_by",
)


def _snapshot(cell: Decision) -> dict:
    values = {f: getattr(cell, f) for f in _RECORDED_FIELDS}
    values["meeting_date"] = cell.meeting_date.isoformat() if cell.meeting_date else None
    values["version"] = cell.revision
    return values


def _unchanged(cell: Decision, decision: DecisionIn, body: Body) -> bool:
    """True when ``decision`` would store exactly what ``cell`` holds (who records it aside)."""
    if cell.outcome is None:
        return False
    wanted = {
        "outcome": decision.outcome.value,
        "deciding_body": decision.deciding_body or body.deciding_body,
        "meeting_date": decision.meeting_date,
        "section": decision.section,
        "diary_number": decision.diary_number,
        "minutes_url": str(decision.minutes_url) if decision.minutes_url else None,
        "note": decision.note,
    }
    if decision.liaison is not None:
        wanted["liaison"] = decision.liaison.model_dump(mode="json")
    return all(getattr(cell, field) == value for field, value in wanted.items())


def duties_point(*, session: Session, proposal_id: str) -> int | None:
    """The point of ``proposal_id`` whose decision names the NGO liaison (1 for an unknown one);
    None when the proposal has no duty description (stored as :data:`NO_DUTIES_POINT`)."""
    stored = session.scalar(select(Proposal.duties_point).where(Proposal.id == proposal_id))
    if stored == NO_DUTIES_POINT:
        return None
    return stored or 1


def _after_sending(*, session: Session, proposal_id: str, body: Body, meeting_date: date) -> None:
    """A body cannot meet on a proposal before it reached the body."""
    sent = sending_day(session=session, proposal_id=proposal_id, body_id=body.id)
    if sent is not None and meeting_date < sent:
        raise InvalidDecisionError(
            body.name,
            None,
            "Kokouspäivä",
            f"kokouspäivä {fi_date(meeting_date)} on ennen kuin esitys lähetettiin vastaanottajalle "
            f"{body.name} ({fi_date(sent)}). Tarkista päivä; jos esitys lähetettiin jo aiemmin palvelun "
            f"ulkopuolella, merkitse lähetyspäivä ensin: council sent-outside {body.id} --date PP.KK.VVVV",
        )


def record_decision(*, session: Session, proposal_id: str, decision: DecisionIn) -> DecisionOut:
    """Store one decision; raise instead of overwriting anything silently.

    * the body, the point and the cell must exist (``council init`` / a send created them);
    * the status change must be allowed (:mod:`council.transitions`);
    * a cell that is already decided is changed only as a correction naming its version;
    * ``expected_version`` must match the stored version (optimistic lock), and the UPDATE itself
      is guarded by the version column, so two writers based on one version cannot both win.
    """
    body = session.get(Body, decision.body_id)
    if body is None:
        raise UnknownBodyError(decision.body_id)
    name = body.name  # read now: after a failed flush the session can no longer load it
    cell = session.scalars(
        select(Decision).where(
            Decision.proposal_id == proposal_id,
            Decision.body_id == decision.body_id,
            Decision.point_number == decision.point,
        )
    ).one_or_none()
    if cell is None:
        numbers = session.scalars(select(Point.number).where(Point.proposal_id == proposal_id)).all()
        if decision.point in numbers:  # the point exists: the body is not one of the recipients
            raise InvalidDecisionError(
                name,
                decision.point,
                "Vastaanottaja",
                f"{name} ei ole esityksen {proposal_id} vastaanottaja (katso council proposal show {proposal_id})",
            )
        raise InvalidDecisionError(
            name,
            decision.point,
            "Kohta",
            f"esityksessä ei ole kohtaa {decision.point} (kohdat {min(numbers, default=0)}–{max(numbers, default=0)})",
        )
    duties = duties_point(session=session, proposal_id=proposal_id)
    if decision.liaison is not None and duties is None:
        raise InvalidDecisionError(name, decision.point, "Järjestöyhdyshenkilö", no_liaison_message())
    if decision.liaison is not None and decision.point != duties:
        raise InvalidDecisionError(
            name,
            decision.point,
            "Järjestöyhdyshenkilö",
            f"järjestöyhdyshenkilö kirjataan vain kohtaan {duties}, ei kohtaan {decision.point}",
        )
    _after_sending(session=session, proposal_id=proposal_id, body=body, meeting_date=decision.meeting_date)
    old_status = DecisionStatus(cell.status)
    new_status = status_after(decision.outcome)
    if decision.expected_version is not None and decision.expected_version != cell.revision:
        raise DecisionConflictError(
            name,
            decision.point,
            f"tieto on muuttunut (tallennettu versio {cell.revision}, lomakkeen versio "
            f"{decision.expected_version}); hae tilanne uudelleen ja kirjaa uudestaan",
        )
    if _unchanged(cell, decision, body):
        # The same decision again (a re-imported export, a double submit): nothing to write, no
        # new version, no event, so the weekly digest does not list it twice.
        return DecisionOut.model_validate(cell)
    if old_status == DecisionStatus.decided and decision.expected_version is None:
        raise DecisionConflictError(
            name,
            decision.point,
            f"kohta on jo päätetty ({cell.outcome}, {fi_date(cell.meeting_date)} § {cell.section}); "
            f"korjataksesi anna korjattava versio {cell.revision}",
        )
    if old_status == DecisionStatus.decided and new_status == DecisionStatus.on_agenda:
        raise DecisionConflictError(
            name,
            decision.point,
            "päätettyä kohtaa ei voi muuttaa avoimeksi korjauksella",
        )
    check_transition(name, decision.point, old_status, new_status)
    before = _snapshot(cell)
    cell.status = new_status.value
    cell.outcome = decision.outcome.value
    cell.deciding_body = decision.deciding_body or body.deciding_body
    cell.meeting_date = decision.meeting_date
    cell.section = decision.section
    cell.diary_number = decision.diary_number
    cell.minutes_url = str(decision.minutes_url) if decision.minutes_url else None
    cell.note = decision.note
    if decision.liaison is not None:
        cell.liaison = decision.liaison.model_dump(mode="json")
    cell.recorded_by = decision.recorded_by
    cell.revision += 1
    cell.updated_at = now()
    try:
        session.flush()
    except StaleDataError as exc:
        raise DecisionConflictError(
            name,
            decision.point,
            "toinen kirjaus ehti ensin (versio muuttui); hae tilanne uudelleen ja kirjaa uudestaan",
        ) from exc
    after = _snapshot(cell)
    add_event(
        session=session,
        kind=EventKind.decision_recorded,
        actor=decision.recorded_by,
        proposal_id=proposal_id,
        body_id=decision.body_id,
        point_number=decision.point,
        data={"old": before, "new": after},
    )
    return DecisionOut.model_validate(cell)


def record_many(*, session: Session, proposal_id: str, decisions: list[DecisionIn]) -> list[DecisionOut]:
    """Record several decisions in the caller's transaction: all of them, or (on error) none."""
    return [record_decision(session=session, proposal_id=proposal_id, decision=d) for d in decisions]


#: How far ahead a meeting may be put on record: a later date is taken for a typo (2207 for 2027).
AGENDA_HORIZON = timedelta(days=730)


def agenda_date_problem(meeting_date: date, today: date | None = None) -> str | None:
    """Why ``meeting_date`` cannot be an agenda meeting's date, or None when it can."""
    latest = (today or today_helsinki()) + AGENDA_HORIZON
    if meeting_date.year < 2000 or meeting_date > latest:
        return f"kokouspäivä {fi_date(meeting_date)} ei ole välillä 1.1.2000–{fi_date(latest)}"
    return None


def mark_on_agenda(
    *, session: Session, proposal_id: str, body_id: str, points: list[int], meeting_date: date, actor: str
) -> int:
    """Note that a body has put points on a meeting's agenda (the date may be in the future).

    With ``points`` empty, every point still open is meant. Follow-up does not remind the body
    before the day after that meeting.
    """
    body = session.get(Body, body_id)
    if body is None:
        raise UnknownBodyError(body_id)
    problem = agenda_date_problem(meeting_date)
    if problem:
        raise InvalidDecisionError(body.name, None, "Kokouspäivä", problem)
    _after_sending(session=session, proposal_id=proposal_id, body=body, meeting_date=meeting_date)
    stmt = select(Decision).where(Decision.proposal_id == proposal_id, Decision.body_id == body_id)
    if points:
        stmt = stmt.where(Decision.point_number.in_(points))
    else:
        stmt = stmt.where(Decision.status.in_(OPEN_STATUSES))
    cells = session.scalars(stmt.order_by(Decision.point_number)).all()
    missing = sorted(set(points) - {c.point_number for c in cells})
    if missing:
        raise InvalidDecisionError(body.name, missing[0], "Kohta", f"esityksessä ei ole kohtaa {missing[0]}")
    if not cells:
        raise InvalidDecisionError(
            body.name,
            None,
            "Kohdat",
            "ei avoimia kohtia: esitystä ei ole lähetetty tai kaikki kohdat on päätetty",
        )
    for cell in cells:
        old = DecisionStatus(cell.status)
        check_transition(body.name, cell.point_number, old, DecisionStatus.on_agenda)
        before = _snapshot(cell)
        cell.status = DecisionStatus.on_agenda.value
        cell.meeting_date = meeting_date
        # A tabled point on a new agenda: the cell now says where the point is going, not what an
        # earlier meeting did (that stays in the event log); a tabled § with the new date was false.
        for field in ("outcome", "section", "diary_number", "minutes_url", "note"):
            setattr(cell, field, None)
        cell.updated_at = now()
        session.flush()
        add_event(
            session=session,
            kind=EventKind.status_changed,
            actor=actor,
            proposal_id=proposal_id,
            body_id=body_id,
            point_number=cell.point_number,
            data={"old": before, "new": _snapshot(cell)},
        )
    return len(cells)


def history(
    *, session: Session, proposal_id: str, body_id: str | None = None, limit: int = 500
) -> list[Event]:
    """The event log, oldest first, optionally for one body."""
    stmt = select(Event).where(Event.proposal_id == proposal_id)
    if body_id:
        stmt = stmt.where(Event.body_id == body_id)
    return list(session.scalars(stmt.order_by(Event.id).limit(limit)))
