"""Recording decisions: rules, events with old and new values, optimistic locking (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from council.config import Settings
from council.errors import DecisionConflictError, InvalidDecisionError, InvalidTransitionError
from council.rules.formatting import today_helsinki
from council.store.decisions import history, record_decision, record_many
from council.store.engine import make_engine
from council.store.tracking import status_matrix
from models.decisions import DecisionIn, LiaisonIn
from models.enums import DecisionStatus, Outcome
from models.tables import Decision, Event

MEETING = date(2021, 3, 15)
LIAISON = LiaisonIn(
    name="Maija Meikäläinen",
    title="hyvinvointikoordinaattori",
    email="maija@jokioinen.example",
    work_time="8 h/kk",
)


def jokioinen_point_1(**extra: object) -> DecisionIn:
    values = dict(
        body_id="jokioinen",
        point=1,
        outcome=Outcome.hyvaksytty,
        meeting_date=MEETING,
        section=59,
        liaison=LIAISON,
        recorded_by="Niina",
    )
    values.update(extra)
    return DecisionIn(**values)


def _record(settings: Settings, decision: DecisionIn):
    with Session(make_engine(settings.effective_database_url)) as session, session.begin():
        return record_decision(session=session, proposal_id=settings.proposal_id, decision=decision)


def test_recorded_decision_shows_in_status_and_event_log(sent_any_db: Settings) -> None:
    """Jokioinen's point 1 becomes `final` (the window has passed) with its liaison; one event holds old and new."""
    out = _record(
        sent_any_db,
        jokioinen_point_1(diary_number="JOK/12/2021", minutes_url="https://jokioinen.example/ptk/59"),
    )
    assert out.status == "decided" and out.version == 1 and out.deciding_body == "Jokioisten kunnanhallitus"
    assert out.liaison["name"] == "Maija Meikäläinen"
    with Session(make_engine(sent_any_db.effective_database_url)) as session:
        matrix = status_matrix(session=session, proposal_id=sent_any_db.proposal_id)
        events = history(session=session, proposal_id=sent_any_db.proposal_id, body_id="jokioinen")
    row = next(r for r in matrix.bodies if r.body_id == "jokioinen")
    assert row.cells[0].status == DecisionStatus.final
    assert row.cells[0].outcome == "hyväksytty ehdotuksen mukaisesti" and row.cells[0].section == 59
    recorded = [e for e in events if e.kind == "decision_recorded"]
    assert len(recorded) == 1
    assert recorded[0].data["old"]["status"] == "sent" and recorded[0].data["new"]["status"] == "decided"
    assert recorded[0].data["new"]["section"] == 59 and recorded[0].actor == "Niina"


def test_recent_decision_is_decided_not_yet_final(sent: Settings) -> None:
    """A decision from three days ago is still within its rectification window."""
    _record(sent, jokioinen_point_1(meeting_date=today_helsinki() - timedelta(days=3)))
    with Session(make_engine(sent.effective_database_url)) as session:
        matrix = status_matrix(session=session, proposal_id=sent.proposal_id)
    row = next(r for r in matrix.bodies if r.body_id == "jokioinen")
    assert row.cells[0].status == DecisionStatus.decided


def test_second_recording_of_a_decided_cell_needs_its_version(sent: Settings) -> None:
    """Recording a decided cell again without a version is refused; with the right version it corrects."""
    first = _record(sent, jokioinen_point_1())
    with pytest.raises(DecisionConflictError, match="jo päätetty") as caught:
        _record(sent, jokioinen_point_1(section=60))
    # by official name, the date as 15.3.2021, the version people see (1 after the first recording)
    assert str(caught.value).startswith("Jokioisten kunta, kohta 1: kohta on jo päätetty")
    assert f"{MEETING.day}.{MEETING.month}.{MEETING.year} § 59" in str(caught.value)
    assert str(caught.value).endswith("korjataksesi anna korjattava versio 1")
    corrected = _record(sent, jokioinen_point_1(section=60, expected_version=first.version))
    assert corrected.section == 60 and corrected.version == first.version + 1
    with pytest.raises(DecisionConflictError, match="muuttunut"):
        _record(sent, jokioinen_point_1(section=61, expected_version=first.version))


def test_lost_update_is_refused(sent_any_db: Settings) -> None:
    """Two coordinators who read the same version: the second recording fails, nothing is overwritten."""
    engine = make_engine(sent_any_db.effective_database_url)
    _record(sent_any_db, jokioinen_point_1())
    stmt = select(Decision.revision).where(Decision.body_id == "jokioinen", Decision.point_number == 1)
    with Session(engine) as session:
        seen_by_a = seen_by_b = session.scalar(stmt)
    _record(sent_any_db, jokioinen_point_1(section=70, expected_version=seen_by_a))
    with pytest.raises(DecisionConflictError, match="muuttunut"):
        _record(sent_any_db, jokioinen_point_1(section=80, expected_version=seen_by_b))
    with Session(engine) as session:
        cell = session.scalars(
            select(Decision).where(Decision.body_id == "jokioinen", Decision.point_number == 1)
        ).one()
        assert cell.section == 70
        events = session.scalars(select(Event).where(Event.kind == "decision_recorded")).all()
        assert [e.data["new"]["section"] for e in events] == [59, 70]


@pytest.mark.postgres
def test_concurrent_flush_on_same_version_is_refused(env: pytest.MonkeyPatch, postgres_url: str) -> None:
    """The version column guards the UPDATE itself: two open transactions on one version, one wins.

    (On SQLite, write transactions are serialised by BEGIN IMMEDIATE, so this race cannot arise.)
    """
    from council.config import get_settings
    from council.store.engine import upgrade
    from tests.conftest import sync_and_mark_sent

    env.setenv("COUNCIL_DATABASE_URL", postgres_url)
    settings = get_settings()
    upgrade(postgres_url)
    sync_and_mark_sent(settings)
    engine = make_engine(postgres_url)
    stmt = select(Decision).where(Decision.body_id == "tammela", Decision.point_number == 2)
    with Session(engine) as a, Session(engine) as b:
        cell_a, cell_b = a.scalars(stmt).one(), b.scalars(stmt).one()
        cell_a.note = "A"
        a.commit()
        cell_b.note = "B"
        from sqlalchemy.orm.exc import StaleDataError

        with pytest.raises(StaleDataError):
            b.commit()


def test_tabled_point_stays_open_and_can_then_be_decided(sent: Settings) -> None:
    """Pantu pöydälle keeps the point on the agenda; the later decision closes it."""
    tabled = _record(sent, jokioinen_point_1(outcome=Outcome.poydalle, liaison=None))
    assert tabled.status == "on_agenda"
    decided = _record(sent, jokioinen_point_1(meeting_date=MEETING + timedelta(days=14), section=71))
    assert decided.status == "decided"


def test_point_not_yet_sent_cannot_be_decided(settings: Settings) -> None:
    """A body the proposal was never sent to cannot have decided: not_sent → decided is refused."""
    from tests.conftest import sync_and_mark_sent

    sync_and_mark_sent(settings, body_ids=["forssa"])
    with pytest.raises(InvalidTransitionError, match="tilasta 'lähettämättä' ei voi siirtyä tilaan 'päätetty'"):
        _record(settings, jokioinen_point_1())


def test_many_decisions_are_all_or_nothing(sent: Settings) -> None:
    """If the third decision of a form fails, the first two are not stored either."""
    engine = make_engine(sent.effective_database_url)
    good = [jokioinen_point_1(), jokioinen_point_1(point=2, liaison=None, section=60)]
    bad = jokioinen_point_1(point=5, liaison=None)
    with pytest.raises(InvalidDecisionError, match="kohtaa 5"), Session(engine) as session, session.begin():
        record_many(session=session, proposal_id=sent.proposal_id, decisions=[*good, bad])
    with Session(engine) as session:
        statuses = session.scalars(select(Decision.status).where(Decision.body_id == "jokioinen")).all()
        assert set(statuses) == {"sent"}
        assert session.scalars(select(Event).where(Event.kind == "decision_recorded")).all() == []


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"meeting_date": date(2099, 1, 1)}, "meeting_date"),
        ({"section": 0}, "section"),
        ({"section": -3}, "section"),
        ({"minutes_url": "ftp://jokioinen.example/ptk"}, "minutes_url"),
        ({"minutes_url": "javascript:alert(1)"}, "minutes_url"),
        ({"point": 2}, "liaison"),
        ({"outcome": "hyväksytty"}, "outcome"),
        ({"note": "x" * 10_001}, "note"),
    ],
    ids=[
        "future-date",
        "section-zero",
        "section-negative",
        "ftp-link",
        "js-link",
        "liaison-on-2",
        "unknown-outcome",
        "huge-note",
    ],
)
def test_invalid_decisions_are_refused_naming_the_field(change: dict, field: str) -> None:
    """Future dates, non-positive §, non-http links and a liaison outside point 1 are refused."""
    values = dict(
        body_id="jokioinen",
        point=1,
        outcome=Outcome.hyvaksytty,
        meeting_date=MEETING,
        section=59,
        liaison=LIAISON,
    )
    values.update(change)
    with pytest.raises(ValidationError) as caught:
        DecisionIn(**values)
    assert field in {".".join(str(part) for part in e["loc"]) for e in caught.value.errors()}, caught.value


def test_a_tabled_point_put_on_a_new_agenda_says_where_it_is_going(sent: Settings, tmp_path) -> None:
    """Tabled on 20.11. (§ 113), then on the agenda of 9.12.: the cell shows the agenda, not a tabled
    § with the new date; the tabling stays in the history; the export skips the open point."""
    from council.rendering.wording import cell_note as _cell_note
    from council.rules.reminders import Cell
    from council.services.bulk import export_decisions
    from council.store.decisions import history, mark_on_agenda

    engine = make_engine(sent.effective_database_url)
    with Session(engine) as session, session.begin():
        record_decision(
            session=session,
            proposal_id=sent.proposal_id,
            decision=DecisionIn(
                body_id="tammela",
                point=3,
                outcome=Outcome.poydalle,
                meeting_date=date(2026, 11, 20),
                section=113,
            ),
        )
        mark_on_agenda(
            session=session,
            proposal_id=sent.proposal_id,
            body_id="tammela",
            points=[3],
            meeting_date=date(2026, 12, 9),
            actor="t",
        )
    with Session(engine) as session:
        cell = session.scalars(
            select(Decision).where(Decision.body_id == "tammela", Decision.point_number == 3)
        ).one()
        assert (cell.status, cell.outcome, cell.section, cell.meeting_date) == (
            "on_agenda",
            None,
            None,
            date(2026, 12, 9),
        )
        note = _cell_note(Cell(3, cell.status, cell.outcome, cell.meeting_date, cell.section))
        assert note == "esityslistalla 9.12.2026"
        tabled = [e for e in history(session=session, proposal_id=sent.proposal_id, body_id="tammela")]
        assert any(
            (e.data.get("new") or {}).get("section") == 113
            for e in tabled
            if isinstance(e.data.get("new"), dict)
        )
        assert export_decisions(session=session, proposal_id=sent.proposal_id, path=tmp_path / "out.csv") == 0
