"""new-proposal and close-proposal under Prefect's test harness, and the other flows acting on the
proposal their form names when several are active (issue 13)."""

from __future__ import annotations

import shutil
from collections import Counter
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa
from prefect.utilities.callables import parameter_schema
from sqlalchemy.orm import Session

from council.config import PROJECT_ROOT, Settings, get_settings
from council.services.forms import form_choices, with_choices
from council.store.engine import make_engine
from flows.follow_up import FollowUpIn, follow_up
from flows.proposals import CloseProposalIn, NewProposalIn, close_proposal_flow, new_proposal
from flows.record_decision import PointDecisionIn, RecordDecisionIn, record_decision
from models.enums import Outcome
from models.tables import Decision, Message, Proposal, Recipient
from tests.flows.test_record_decision import _run_artifacts
from tests.helpers import delivered_proposal
from tests.test_proposals import SECOND, SEED, second_proposal_file

pytestmark = pytest.mark.prefect


@pytest.fixture
def inbox(sent: Settings, env: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """The seed sent to every body; a second proposal waiting in the coordinator's folder."""
    data = tmp_path / "data"
    shutil.copytree(PROJECT_ROOT / "data", data)
    env.setenv("COUNCIL_DATA_DIR", str(data))
    folder = tmp_path / "uudet"
    folder.mkdir()
    env.setenv("COUNCIL_PROPOSALS_INBOX_DIR", str(folder))
    shutil.copy(second_proposal_file(tmp_path), folder / "liikuntapaikat.yaml")
    with Session(make_engine(sent.effective_database_url)) as session, session.begin():
        session.execute(sa.update(Proposal).values(state="sent"))
    return folder


def _engine():  # noqa: ANN202
    return make_engine(get_settings().effective_database_url)


def test_new_proposal_form_lists_the_folder_and_the_forms_then_know_it(inbox: Path, prefect_harness: None) -> None:
    schema = with_choices(parameter_schema(new_proposal).model_dump(), form_choices(get_settings()))
    form = schema["definitions"]["NewProposalIn"]["properties"]
    assert form["tiedosto"]["enum"] == ["liikuntapaikat.yaml"]
    assert "Tammelan kunta" in form["vastaanottajat"]["items"]["enum"]

    result = new_proposal(
        esitys=NewProposalIn(
            tiedosto="liikuntapaikat.yaml",
            vastaanottajat=["Humppilan kunta", "Jokioisten kunta", "Tammelan kunta"],
            dnro="FSHKY/999/00.04.01/2026",
            vastausaika_paivina=60,
        )
    )
    assert result["proposal"] == SECOND and result["recipients"] == ["humppila", "jokioinen", "tammela"]
    assert Path(result["preview"]).is_file()
    with Session(_engine()) as session:
        row = session.get(Proposal, SECOND)
        assert row.state == "draft" and row.diary_number == "FSHKY/999/00.04.01/2026"
        assert row.content["reminder_policy"]["deadline_days"] == 60
    # every form now offers both proposals; the record form's proposal field among them
    choices = form_choices(get_settings())
    assert set(choices["proposals"]) == {
        f"Järjestöjen ja julkisen sektorin yhteistyömalli ({SEED})",
        f"Liikuntapaikkojen yhteiskäyttö ({SECOND})",
    }
    record = with_choices(parameter_schema(record_decision).model_dump(), choices)
    tabs = {
        v["title"]: v["properties"]["vastaanottaja"]["enum"]
        for v in record["definitions"]["RecordDecisionIn"]["properties"]["kohde"]["anyOf"]
    }
    assert tabs[f"Liikuntapaikkojen yhteiskäyttö ({SECOND})"] == ["Humppilan kunta", "Jokioisten kunta", "Tammelan kunta"]
    assert len(tabs[f"Järjestöjen ja julkisen sektorin yhteistyömalli ({SEED})"]) == 6


def test_a_bad_file_is_refused_and_nothing_is_stored(inbox: Path, prefect_harness: None) -> None:
    (inbox / "rikki.yaml").write_text("id: x\n", "utf-8")
    state = new_proposal(esitys=NewProposalIn(tiedosto="rikki.yaml"), return_state=True)
    assert state.is_failed() and "rikki.yaml" in state.message
    state = new_proposal(esitys=NewProposalIn(tiedosto="liikuntapaikat.yaml", vastaanottajat=["Urjalan kunta"]), return_state=True)
    assert state.is_failed() and "Urjalan kunta" in state.message
    with Session(_engine()) as session:
        assert list(session.scalars(sa.select(Proposal.id))) == [SEED]


def test_record_goes_to_the_proposal_the_form_names(inbox: Path, prefect_harness: None) -> None:
    new_proposal(esitys=NewProposalIn(tiedosto="liikuntapaikat.yaml", vastaanottajat=["Tammelan kunta"]))
    form = {
        "vastaanottaja": "Tammelan kunta",
        "kokouspaiva": "16.2.2026",
        "kohdat": [PointDecisionIn(kohta="2 – Säännölliset yhteistyömuodot", paatos=Outcome.hylatty, pykala=12)],
    }
    # two active proposals and none named: refused in Finnish, nothing stored
    state = record_decision(kirjaus=RecordDecisionIn(**form), return_state=True)
    assert state.is_failed() and "2 esitystä" in state.message
    texts = [a.data for a in _run_artifacts(state.state_details.flow_run_id) if a.type == "markdown"]
    assert any("Mitä tehdä" in (t or "") for t in texts)
    delivered_proposal(get_settings(proposal_id=SECOND), "tammela", logical_date=date(2026, 2, 2))
    with Session(_engine()) as session, session.begin():
        session.execute(sa.update(Decision).where(Decision.proposal_id == SECOND).values(status="sent"))
    record_decision(kirjaus=RecordDecisionIn(esitys="Liikuntapaikkojen yhteiskäyttö", **form))
    with Session(_engine()) as session:
        outcomes = dict(
            session.execute(
                sa.select(Decision.proposal_id, Decision.outcome).where(
                    Decision.body_id == "tammela", Decision.point_number == 2
                )
            ).all()
        )
    assert outcomes == {SEED: None, SECOND: Outcome.hylatty.value}


def test_follow_up_runs_every_active_proposal_and_close_stops_one(inbox: Path, prefect_harness: None) -> None:
    """One follow-up run reminds on both proposals (tasks read the proposal of their turn), a body
    shared by both gets one email that day; after close-proposal the closed one is left alone."""
    new_proposal(esitys=NewProposalIn(tiedosto="liikuntapaikat.yaml", vastaanottajat=["Tammelan kunta", "Ypäjän kunta"]))
    second = get_settings(proposal_id=SECOND)
    for body_id in ("tammela", "ypaja"):
        delivered_proposal(second, body_id, logical_date=date(2026, 3, 2))
    for body_id in ("forssa", "tammela", "ypaja"):
        delivered_proposal(get_settings(), body_id, logical_date=date(2026, 3, 2))
    with Session(_engine()) as session, session.begin():
        session.execute(sa.update(Decision).where(Decision.proposal_id == SECOND).values(status="sent"))
        session.execute(sa.update(Proposal).where(Proposal.id == SECOND).values(state="sent"))
    result = follow_up(ajo=FollowUpIn(paiva="23.3.2026"))  # both due: 21 days after sending
    with Session(_engine()) as session:
        reminders = session.execute(
            sa.select(Message.proposal_id, Message.body_id, Message.state).where(Message.kind == "reminder")
        ).all()
        combined = set(session.scalars(sa.select(Message.body_id).where(Message.kind == "combined_reminder")))
        on_the_wire = Counter(
            session.scalars(
                sa.select(Message.body_id).where(
                    Message.logical_date == date(2026, 3, 23), Message.state != "carried"
                )
            )
        )
    by_body: dict[str, set[str]] = {}
    for proposal_id, body_id, _state in reminders:
        by_body.setdefault(body_id, set()).add(proposal_id)
    # the shared bodies: both rounds counted, carried by one combined email each
    assert by_body["tammela"] == {SEED, SECOND} and by_body["ypaja"] == {SEED, SECOND}
    assert combined == {"tammela", "ypaja"} and set(on_the_wire.values()) == {1}
    assert by_body["forssa"] == {SEED} and set(result["due"]) == {"forssa", "tammela", "ypaja"}
    follow_up(ajo=FollowUpIn(paiva="24.3.2026"))
    with Session(_engine()) as session:
        next_day = session.scalars(sa.select(Message.id).where(Message.logical_date == date(2026, 3, 24))).all()
    assert next_day == []  # each round was counted the day before

    state = close_proposal_flow(paatos=CloseProposalIn(esitys=SECOND, syy="   "), return_state=True)
    assert state.is_failed() and "syy" in state.message  # a blank reason
    close_proposal_flow(paatos=CloseProposalIn(esitys="Liikuntapaikkojen yhteiskäyttö", syy="esitys vanhentui"))
    with Session(_engine()) as session:
        assert session.get(Proposal, SECOND).state == "closed"
        assert set(session.scalars(sa.select(Recipient.body_id).where(Recipient.proposal_id == SECOND))) == {
            "tammela",
            "ypaja",
        }
    assert f"Liikuntapaikkojen yhteiskäyttö ({SECOND})" not in form_choices(get_settings())["proposals"]
