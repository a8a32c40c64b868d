"""record-decision and import-decisions under Prefect's test harness."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from prefect.utilities.callables import parameter_schema
from sqlalchemy.orm import Session

from council.config import Settings
from council.store.engine import make_engine
from council.store.tracking import status_matrix
from flows.import_decisions import import_decisions
from flows.record_decision import LiaisonForm, PointDecisionIn, RecordDecisionIn, record_decision
from models.enums import Outcome

pytestmark = pytest.mark.prefect


def test_form_has_dropdowns_and_finnish_labels() -> None:
    """Body, point and outcome are dropdowns with official names and Finnish outcome values."""
    defs = parameter_schema(record_decision).model_dump()["definitions"]
    form = defs["RecordDecisionIn"]["properties"]
    assert form["vastaanottaja"]["title"] == "Vastaanottaja"
    assert "Jokioisten kunta" in form["vastaanottaja"]["enum"]
    assert form["kokouspaiva"]["format"] == "date"
    point = defs["PointDecisionIn"]["properties"]
    assert point["kohta"]["enum"][0] == "1 – Järjestöyhdyshenkilö"
    assert "pantu pöydälle" in defs["Outcome"]["enum"]
    assert "Kirjaa yhden vastaanottajan" in defs["RecordDecisionIn"]["description"]


def test_record_decision_flow_stores_several_points_of_one_meeting(
    prefect_harness: None, sent: Settings
) -> None:
    """One run records points 1 and 2 of Jokioinen's meeting with the liaison; status shows both."""
    stored = record_decision(
        kirjaus=RecordDecisionIn(
            vastaanottaja="Jokioisten kunta",
            kokouspaiva=date(2021, 3, 15),
            kohdat=[
                PointDecisionIn(kohta="1 – Järjestöyhdyshenkilö", paatos=Outcome.hyvaksytty, pykala=59),
                PointDecisionIn(kohta="2 – Säännölliset yhteistyömuodot", paatos=Outcome.poydalle, pykala=60),
            ],
            yhdyshenkilo=LiaisonForm(
                nimi="Maija Meikäläinen",
                nimike="hyvinvointikoordinaattori",
                sahkoposti="maija@jokioinen.example",
                tyoaika="8 h/kk",
            ),
        )
    )
    assert [(d["point_number"], d["status"]) for d in stored] == [(1, "decided"), (2, "on_agenda")]
    assert stored[0]["liaison"]["name"] == "Maija Meikäläinen" and stored[1]["liaison"] is None
    with Session(make_engine(sent.effective_database_url)) as session:
        row = next(
            r
            for r in status_matrix(session=session, proposal_id=sent.proposal_id).bodies
            if r.body_id == "jokioinen"
        )
    assert row.cells[0].outcome == "hyväksytty ehdotuksen mukaisesti" and row.cells[0].section == 59


def test_record_decision_flow_refuses_future_date(prefect_harness: None, sent: Settings) -> None:
    """A meeting date in the future fails the run with the field named, storing nothing."""
    with pytest.raises(Exception, match="tulevaisuudessa"):
        record_decision(
            kirjaus=RecordDecisionIn(
                vastaanottaja="Ypäjän kunta",
                kokouspaiva=date(2099, 1, 1),
                kohdat=[PointDecisionIn(kohta="4 – Järjestötietous", paatos=Outcome.hyvaksytty, pykala=1)],
            )
        )


def test_import_flow_writes_rows(prefect_harness: None, sent: Settings, tmp_path: Path) -> None:
    """import-decisions records the file's rows."""
    path = tmp_path / "p.csv"
    path.write_text(
        "vastaanottaja;kohta;paatos;kokouspaiva;pykala\nhumppila;3;merkitty tiedoksi;1.2.2021;7\n",
        encoding="utf-8",
    )
    assert import_decisions(tiedosto=str(path)) == 1
    with Session(make_engine(sent.effective_database_url)) as session:
        row = next(
            r
            for r in status_matrix(session=session, proposal_id=sent.proposal_id).bodies
            if r.body_id == "humppila"
        )
    cell = row.cells[2]
    assert (cell.point, cell.outcome, cell.section, cell.meeting_date) == (
        3,
        "merkitty tiedoksi",
        7,
        "2021-02-01",
    )


def test_artifacts_show_the_recorded_decision(prefect_harness: None, sent: Settings) -> None:
    """After recording, the table, markdown and progress artifacts carry the decision and the %."""
    import asyncio

    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    record_decision(
        kirjaus=RecordDecisionIn(
            vastaanottaja="Tammelan kunta",
            kokouspaiva=date(2021, 4, 1),
            kohdat=[
                PointDecisionIn(
                    kohta="3 – Kehittämisyhteistyön kohdat", paatos=Outcome.merkitty_tiedoksi, pykala=33
                ),
                PointDecisionIn(kohta="4 – Järjestötietous", paatos=Outcome.hyvaksytty, pykala=34),
            ],
        )
    )

    async def latest(key: str):
        async with get_client() as client:
            found = await client.read_latest_artifacts(
                artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[key]))
            )
            return found[0]

    pid = sent.proposal_id
    table = asyncio.run(latest(f"paatokset-{pid}"))
    markdown = asyncio.run(latest(f"tilanne-{pid}"))
    progress = asyncio.run(latest(f"edistyminen-{pid}"))
    import json

    rows = {row["Vastaanottaja"]: row for row in json.loads(table.data)}
    assert "merkitty tiedoksi 1.4.2021 § 33" in rows["Tammelan kunta"]["3. Kehittämisyhteistyön kohdat"]
    assert "Tammelan kunta" in markdown.data and "Selite" in markdown.data
    assert float(progress.data) == 8.0  # 2 of 24 cells, rounded down
    assert (sent.outputs / "dashboard" / "dashboard.html").is_file()
