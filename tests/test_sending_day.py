"""Decisions consistent with sending: no meeting before the proposal reached the body, unless the
coordinator marks it as sent outside the service with its date (a campaign taken over).

Every way in is tried alike: `council record`, `council agenda`, the import, and the
record-decision flow's service.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from council.cli.commands import app
from council.config import Settings
from council.services.follow_up import find_due
from council.services.send import sync
from council.store.engine import make_engine
from models.enums import DecisionStatus, MessageKind
from models.tables import Decision, Event, Message
from tests.helpers import delivered_proposal

runner = CliRunner()
OUTCOME = "hyväksytty ehdotuksen mukaisesti"


def _cells(settings: Settings, body_id: str) -> dict[int, str]:
    with Session(make_engine(settings.effective_database_url)) as session:
        return dict(
            session.execute(
                select(Decision.point_number, Decision.status).where(Decision.body_id == body_id)
            ).all()
        )


def _events(settings: Settings) -> int:
    with Session(make_engine(settings.effective_database_url)) as session:
        return len(session.scalars(select(Event.id)).all())


def _import(path: Path, body: str, day: str) -> object:
    path.write_text(
        f"vastaanottaja;kohta;paatos;kokouspaiva;pykala\n{body};2;{OUTCOME};{day};5\n", encoding="utf-8"
    )
    return runner.invoke(app, ["import-decisions", str(path)])


WAYS_IN = {
    "record": lambda day: runner.invoke(app, ["record", "jokioinen", "2", OUTCOME, "--date", day, "--section", "5"]),
    "agenda": lambda day: runner.invoke(app, ["agenda", "jokioinen", "--date", day]),
    "import": lambda day: _import(Path("paatokset.csv"), "jokioinen", day),
}


@pytest.mark.parametrize("way", WAYS_IN.values(), ids=WAYS_IN.keys())
def test_a_meeting_before_the_proposal_was_sent_is_refused(sent: Settings, way) -> None:  # noqa: ANN001
    delivered_proposal(sent, "jokioinen", logical_date=date(2026, 11, 2))
    before = (_cells(sent, "jokioinen"), _events(sent))
    refused = way("30.10.2026")
    assert refused.exit_code == 2, refused.output
    assert "ennen kuin esitys lähetettiin" in refused.output and "2.11.2026" in refused.output
    assert "council sent-outside jokioinen" in refused.output
    assert (_cells(sent, "jokioinen"), _events(sent)) == before
    accepted = way("2.11.2026")  # the day of sending itself is possible (an urgent extra meeting)
    assert accepted.exit_code == 0, accepted.output


def test_the_record_decision_service_refuses_it_too(sent: Settings) -> None:
    """The flow stores through the same function the CLI and the import use."""
    from council.errors import InvalidDecisionError
    from council.store.decisions import record_decision
    from models.decisions import DecisionIn

    delivered_proposal(sent, "jokioinen", logical_date=date(2026, 11, 2))
    decision = DecisionIn(body_id="jokioinen", point=2, outcome=OUTCOME, meeting_date=date(2026, 11, 1), section=5)
    with Session(make_engine(sent.effective_database_url)) as session, pytest.raises(InvalidDecisionError):
        record_decision(session=session, proposal_id=sent.proposal_id, decision=decision)


def test_a_campaign_sent_outside_the_service_is_taken_over(settings: Settings) -> None:
    """`council sent-outside`: the cells become sent, earlier meetings are accepted from that day on,
    `send` does not mail the body again, and reminders count from the given day."""
    sync(settings, actor="test")
    assert set(_cells(settings, "tammela").values()) == {DecisionStatus.not_sent.value}
    marked = runner.invoke(app, ["sent-outside", "tammela", "--date", "1.3.2021"])
    assert marked.exit_code == 0, marked.output
    assert set(_cells(settings, "tammela").values()) == {DecisionStatus.sent.value}

    refused = runner.invoke(app, ["record", "tammela", "2", OUTCOME, "--date", "28.2.2021", "--section", "5"])
    assert refused.exit_code == 2 and "1.3.2021" in refused.output, refused.output
    taken = runner.invoke(app, ["record", "tammela", "2", OUTCOME, "--date", "15.3.2021", "--section", "5"])
    assert taken.exit_code == 0, taken.output

    assert runner.invoke(app, ["send", "--body", "tammela"]).exit_code == 0
    with Session(make_engine(settings.effective_database_url)) as session:
        kinds = session.scalars(select(Message.kind).where(Message.body_id == "tammela")).all()
    assert MessageKind.proposal.value not in kinds

    due = {d.body_id: d for d in find_due(settings, date(2021, 3, 29))}  # Monday, 28 days after
    assert "tammela" in due and due["tammela"].round == 1
    from council.dashboard.build import build_dashboard

    with Session(make_engine(settings.effective_database_url)) as session:
        board = build_dashboard(session=session, proposal_id=settings.proposal_id, today=date(2021, 3, 29))
    tammela = next(b for b in board.bodies if b.body_id == "tammela")
    assert tammela.sent_date == "1.3.2021" and tammela.deadline == "30.5.2021"


def test_a_future_sending_day_is_refused(settings: Settings) -> None:
    sync(settings, actor="test")
    result = runner.invoke(app, ["sent-outside", "tammela", "--date", "1.1.2099"])
    assert result.exit_code == 2 and "tulevaisuudessa" in result.output, result.output
    assert set(_cells(settings, "tammela").values()) == {DecisionStatus.not_sent.value}
