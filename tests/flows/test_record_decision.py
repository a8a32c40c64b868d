"""record-decision and import-decisions under Prefect's test harness."""

from __future__ import annotations

from pathlib import Path

import pytest
from prefect.utilities.callables import parameter_schema
from sqlalchemy.orm import Session

from council.config import Settings
from council.store.engine import make_engine
from council.store.tracking import status_matrix
from flows.committee import committee_digest, dashboard
from flows.follow_up import follow_up
from flows.import_decisions import import_decisions
from flows.mark_agenda import mark_agenda
from flows.record_decision import LiaisonForm, PointDecisionIn, RecordDecisionIn, record_decision
from flows.send_proposal import send_proposal
from models.enums import Outcome
from models.fields import FI_DATE_PATTERN

FORM_FLOWS = [
    send_proposal,
    record_decision,
    mark_agenda,
    import_decisions,
    follow_up,
    dashboard,
    committee_digest,
]

pytestmark = pytest.mark.prefect



def _deployed(flow) -> dict:  # noqa: ANN001
    """The form's schema as `council run` leaves it on the server: choices filled in from the content."""
    from council.config import get_settings
    from council.services.forms import form_choices, with_choices

    return with_choices(parameter_schema(flow).model_dump(), form_choices(get_settings()))

def test_form_has_dropdowns_and_finnish_labels() -> None:
    """Body, point and outcome are dropdowns with official names and Finnish outcome values."""
    defs = _deployed(record_decision)["definitions"]
    form = defs["RecordDecisionIn"]["properties"]
    assert form["vastaanottaja"]["title"] == "Vastaanottaja"
    assert "Jokioisten kunta" in form["vastaanottaja"]["enum"]
    assert form["kokouspaiva"]["pattern"] == FI_DATE_PATTERN and "format" not in form["kokouspaiva"]
    point = defs["PointDecisionIn"]["properties"]
    assert point["kohta"]["enum"][0] == "1 – Järjestöyhdyshenkilö"
    assert "pantu pöydälle" in point["paatos"]["enum"]
    assert "Kirjaa yhden vastaanottajan" in defs["RecordDecisionIn"]["description"]


def _walk(schema: object):
    """Every dict inside a JSON schema."""
    if isinstance(schema, dict):
        yield schema
        for value in schema.values():
            yield from _walk(value)
    elif isinstance(schema, list):
        for value in schema:
            yield from _walk(value)


@pytest.mark.parametrize("flow", FORM_FLOWS, ids=lambda f: f.name)
def test_every_form_is_plain_finnish(flow) -> None:  # noqa: ANN001
    """No type toggles (anyOf with null), no date pickers, and every field and form has a Finnish title."""
    schema = parameter_schema(flow).model_dump_for_openapi()
    for node in _walk(schema):
        assert "anyOf" not in node and node.get("type") != "null", node
        assert node.get("format") not in ("date", "date-time"), node
    fields = [
        (name, prop)
        for node in [schema, *schema.get("definitions", {}).values()]
        for name, prop in node.get("properties", {}).items()
    ]
    for name, prop in fields:
        title = prop.get("title")
        if title is None and "$ref" in prop:  # the form itself: titled by its model
            title = schema["definitions"][prop["$ref"].rsplit("/", 1)[1]]["title"]
        assert title and title[0].isupper() and title != name, (name, prop)
        assert prop.get("description") or "$ref" in prop, (name, prop)
    for name, definition in schema.get("definitions", {}).items():  # no class names (LiaisonForm, Outcome)
        assert definition["title"] != name, name


def test_record_decision_flow_stores_several_points_of_one_meeting(
    prefect_harness: None, sent: Settings
) -> None:
    """One run records points 1 and 2 of Jokioinen's meeting with the liaison; status shows both."""
    stored = record_decision(
        kirjaus=RecordDecisionIn(
            vastaanottaja="Jokioisten kunta",
            kokouspaiva="15.3.2021",
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


def _matrix(settings: Settings) -> list:
    with Session(make_engine(settings.effective_database_url)) as session:
        return [
            c
            for r in status_matrix(session=session, proposal_id=settings.proposal_id).bodies
            for c in r.cells
        ]


def _run_artifacts(run_id) -> list:  # noqa: ANN001
    import asyncio

    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

    async def read():
        async with get_client() as client:
            return await client.read_artifacts(
                artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[run_id]))
            )

    return asyncio.run(read())


@pytest.mark.parametrize(
    ("form", "said"),
    [
        (
            {"kokouspaiva": "1.1.2099"},
            "Kokouspäivä: 1.1.2099 on tulevaisuudessa",
        ),
        ({"kokouspaiva": "31.2.2021"}, "Kokouspäivä: päivämäärä '31.2.2021' ei ole olemassa"),
        (
            {"yhdyshenkilo": LiaisonForm(nimi="Maija Meikäläinen")},
            "Järjestöyhdyshenkilö, Tehtävänimike",
        ),
        ({"poytakirjaote": "http://[x"}, "Pöytäkirjanotteen linkki"),
    ],
    ids=["future-date", "no-such-date", "half-a-liaison", "bad-link"],
)
def test_a_refused_form_ends_the_run_with_a_finnish_message_and_stores_nothing(
    prefect_harness: None, sent: Settings, form: dict, said: str, caplog: pytest.LogCaptureFixture
) -> None:
    """What only the service can check ends the run Failed with "Mitä tapahtui – mitä tehdä", an
    artifact saying the same, a WARNING without a traceback, and nothing stored."""
    before = _matrix(sent)
    values = {
        "vastaanottaja": "Ypäjän kunta",
        "kokouspaiva": "1.2.2021",
        "kohdat": [PointDecisionIn(kohta="1 – Järjestöyhdyshenkilö", paatos=Outcome.hyvaksytty, pykala=1)],
    } | form
    state = record_decision(kirjaus=RecordDecisionIn(**values), return_state=True)
    assert state.is_failed()
    assert state.message.startswith("Mitä tapahtui: ") and "Mitä tehdä: " in state.message
    assert said in state.message
    for english in ("Value error", "meeting_date", "ValidationError", "Traceback"):
        assert english not in state.message
    warnings = [r for r in caplog.records if r.levelname == "WARNING" and "Mitä tapahtui" in r.getMessage()]
    assert warnings and all(r.exc_info is None for r in warnings)
    assert not [r for r in caplog.records if r.levelname == "ERROR" or r.exc_info]
    artifacts = _run_artifacts(state.state_details.flow_run_id)
    assert any(said in (a.data or "") and "Mitä tehdä" in a.data for a in artifacts)
    assert _matrix(sent) == before


def test_a_second_recording_without_version_is_refused_not_crashed(
    prefect_harness: None, sent: Settings
) -> None:
    """A conflict the store finds (an already decided point) ends the run Failed in Finnish, storing nothing."""
    kirjaus = RecordDecisionIn(
        vastaanottaja="Humppilan kunta",
        kokouspaiva="1.2.2021",
        kohdat=[PointDecisionIn(kohta="2 – Säännölliset yhteistyömuodot", paatos=Outcome.hylatty, pykala=3)],
    )
    record_decision(kirjaus=kirjaus)
    before = _matrix(sent)
    again = kirjaus.model_copy(update={"kohdat": [kirjaus.kohdat[0].model_copy(update={"pykala": 4})]})
    state = record_decision(kirjaus=again, return_state=True)
    assert state.is_failed() and "korjattava versio" in state.message.casefold()
    assert "Korjattava versio" in state.message
    assert _matrix(sent) == before


def test_a_completed_run_says_what_it_recorded(prefect_harness: None, sent: Settings) -> None:
    """The run's markdown artifact names the body, the point, the Finnish date and what comes next."""
    state = record_decision(
        kirjaus=RecordDecisionIn(
            vastaanottaja="Forssan kaupunki",
            kokouspaiva="2.11.2021",
            kohdat=[
                PointDecisionIn(kohta="3 – Kehittämisyhteistyön kohdat", paatos=Outcome.hylatty, pykala=5)
            ],
        ),
        return_state=True,
    )
    assert state.is_completed()
    texts = [a.data for a in _run_artifacts(state.state_details.flow_run_id) if a.type == "markdown"]
    summary = next(t for t in texts if "Kirjattu" in t)
    assert "Forssan kaupunki, kohta 3: hylätty (2.11.2021 § 5), versio 1\n" in summary
    assert "Seuraavaksi" in summary and "Tilannesivu" in summary


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
            kokouspaiva="1.4.2021",
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
