"""The forms' choices come from the content when the schema is written, not when a flow is imported."""

from __future__ import annotations

from pydantic import BaseModel, Field

from council.config import Settings
from council.services.forms import CHOICES_KEY, form_choices, with_choices


class _Form(BaseModel):
    vastaanottaja: str = Field(title="Vastaanottaja", json_schema_extra={CHOICES_KEY: "bodies"})
    vastaanottajat: list[str] = Field(default_factory=list, json_schema_extra={CHOICES_KEY: "bodies"})
    kohdat: list[str] = Field(default_factory=list, json_schema_extra={CHOICES_KEY: "points"})
    lisatieto: str = ""


class _NewForm(BaseModel):
    tiedosto: str = Field(title="Tiedosto", json_schema_extra={CHOICES_KEY: "proposal_files"})


def test_marked_fields_get_the_rosters_names_and_the_proposals_points(settings: Settings) -> None:
    schema = {"properties": {"lomake": {"$ref": "#/definitions/_Form"}}, "definitions": {"_Form": _Form.model_json_schema()}}
    filled = with_choices(schema, form_choices(settings))
    form = filled["definitions"]["_Form"]["properties"]
    assert form["vastaanottaja"]["enum"][:2] == ["Forssan kaupunki", "Humppilan kunta"]
    assert "Jokioisten kunta" in form["vastaanottajat"]["items"]["enum"]
    assert form["kohdat"]["items"]["enum"][0] == "1 – Järjestöyhdyshenkilö"
    assert "enum" not in form["lisatieto"]
    assert "enum" not in schema["definitions"]["_Form"]["properties"]["vastaanottaja"]  # a copy


def test_a_changed_roster_changes_the_choices(settings: Settings, tmp_path) -> None:  # noqa: ANN001
    """The schema is written from the content as it is now: a renamed body shows its new name."""
    roster = settings.path(settings.roster_file).read_text(encoding="utf-8")
    changed = tmp_path / "roster.yaml"
    changed.write_text(roster.replace("Humppilan kunta", "Humppilan kunta (uusi nimi)"), encoding="utf-8")
    renamed = settings.model_copy(update={"roster_file": changed})
    names = with_choices(_Form.model_json_schema(), form_choices(renamed))["properties"]["vastaanottaja"]["enum"]
    assert "Humppilan kunta (uusi nimi)" in names and "Humppilan kunta" not in names


def test_council_run_writes_the_choices_into_the_servers_deployments(prefect_harness: None, settings: Settings) -> None:
    """`refresh_forms` on a real Prefect server: the deployment's form offers the roster's names."""
    from prefect import flow
    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_URL

    from council.services.forms import refresh_forms

    @flow(name="form-choices-probe")
    def probe(lomake: _Form) -> None:  # pragma: no cover - never run, only deployed
        return None

    with get_client(sync_client=True) as client:
        flow_id = client.create_flow(probe)
        deployment_id = client.create_deployment(
            flow_id=flow_id,
            name="probe",
            parameter_openapi_schema=probe.parameters.model_dump(mode="json", by_alias=True),
        )
    assert refresh_forms(settings, PREFECT_API_URL.value()) >= 1
    with get_client(sync_client=True) as client:
        schema = client.read_deployment(deployment_id).parameter_openapi_schema
    form = schema["definitions"]["_Form"]["properties"]
    assert "Jokioisten kunta" in form["vastaanottaja"]["enum"]
    assert form["kohdat"]["items"]["enum"][0] == "1 – Järjestöyhdyshenkilö"
    assert refresh_forms(settings, PREFECT_API_URL.value()) == 0  # unchanged content: nothing written


def test_refresh_forms_without_a_server_is_a_finnish_message(settings: Settings) -> None:
    from typer.testing import CliRunner

    from council.cli.commands import app
    from tests.conftest import free_port

    url = f"http://127.0.0.1:{free_port()}/api"
    result = CliRunner().invoke(app, ["refresh-forms", "--api", url])
    assert result.exit_code == 2, result.output
    assert f"Prefect-palvelimeen {url} ei saada yhteyttä" in result.output


def test_council_run_keeps_the_forms_current(prefect_harness: None, settings: Settings, env, tmp_path) -> None:  # noqa: ANN001
    """While `council run` runs, a file saved into the new-proposals folder reaches the deployed
    form within one look, with no restart; an unchanged look writes nothing."""
    from prefect import flow
    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_URL

    from council.cli.runner import FormKeeper
    from council.config import get_settings

    @flow(name="form-keeper-probe")
    def probe(lomake: _NewForm) -> None:  # pragma: no cover - never run, only deployed
        return None

    folder = tmp_path / "uudet"
    folder.mkdir()
    env.setenv("COUNCIL_PROPOSALS_INBOX_DIR", str(folder))
    with get_client(sync_client=True) as client:
        deployment_id = client.create_deployment(
            flow_id=client.create_flow(probe),
            name="probe",
            parameter_openapi_schema=probe.parameters.model_dump(mode="json", by_alias=True),
        )
    keeper = FormKeeper(get_settings(), PREFECT_API_URL.value())
    keeper.EVERY = 0
    (folder / "liikuntapaikat.docx").write_bytes(b"")
    (folder / "~$liikuntapaikat.docx").write_bytes(b"")  # Word's lock file is not a proposal
    keeper.keep_current()
    with get_client(sync_client=True) as client:
        schema = client.read_deployment(deployment_id).parameter_openapi_schema
    assert schema["definitions"]["_NewForm"]["properties"]["tiedosto"]["enum"] == ["liikuntapaikat.docx"]


def test_a_kind_with_nothing_to_offer_drops_the_last_pushed_choices() -> None:
    """Once every proposal is closed (or the new-proposals folder is empty) the field is free text
    again, not a dropdown of what was there at the last push."""
    schema = with_choices(_NewForm.model_json_schema(), {"proposal_files": ["vanha.docx"]})
    assert schema["properties"]["tiedosto"]["enum"] == ["vanha.docx"]
    assert "enum" not in with_choices(schema, {"proposal_files": []})["properties"]["tiedosto"]
    kept = with_choices(schema, {"bodies": ["Tammelan kunta"]})  # a kind not given is left alone
    assert kept["properties"]["tiedosto"]["enum"] == ["vanha.docx"]


def _flow_schema(model: type[BaseModel]) -> dict:
    """A deployment's parameter schema as Prefect builds it: the form model under definitions."""
    name = model.__name__
    return {
        "type": "object",
        "properties": {"lomake": {"$ref": f"#/definitions/{name}"}},
        "definitions": {name: model.model_json_schema()},
    }


SEED_LABEL = "Järjestöjen ja julkisen sektorin yhteistyömalli (jarjestoyhteistyomalli-forssan-seutu)"
SECOND_LABEL = "Liikuntapaikkojen yhteiskäyttö (liikuntapaikat-2027)"
SEED_NAMES = ["Forssan kaupunki", "Humppilan kunta", "Jokioisten kunta", "Tammelan kunta", "Ypäjän kunta"]
SECOND_NAMES = ["Humppilan kunta", "Tammelan kunta"]


def _choices(*labels: str) -> dict[str, list[str]]:
    names = {SEED_LABEL: SEED_NAMES, SECOND_LABEL: SECOND_NAMES}
    return {
        "bodies": [*SEED_NAMES, "Forssan seudun hyvinvointikuntayhtymä"],
        "points": ["1 – Järjestöyhdyshenkilö"],
        "proposals": list(labels),
        **{f"recipients:{label}": names[label] for label in labels},
    }


def test_each_proposal_forms_body_dropdown_lists_only_its_recipients() -> None:
    """Every form that chooses a proposal and a body (record-decision, mark-agenda, send-proposal):
    with one active proposal the body dropdown lists its recipients; with several, one tab per
    proposal, each with that proposal's recipients; a push over a pushed schema gives the same
    schema, and with one proposal again the flow's own fields come back. The new-proposal form,
    which chooses among every roster body, keeps the whole roster."""
    from flows.mark_agenda import AgendaIn
    from flows.proposals import NewProposalIn
    from flows.record_decision import RecordDecisionIn
    from flows.send_proposal import SendProposalIn

    for model, body_field in ((RecordDecisionIn, "vastaanottaja"), (AgendaIn, "vastaanottaja"), (SendProposalIn, "vastaanottajat")):
        original = _flow_schema(model)
        name = model.__name__

        one = with_choices(original, _choices(SEED_LABEL))
        form = one["definitions"][name]
        prop = form["properties"][body_field]
        assert (prop.get("items") or prop)["enum"] == SEED_NAMES, name
        assert form["properties"]["esitys"]["enum"][-1] == SEED_LABEL

        two = with_choices(one, _choices(SEED_LABEL, SECOND_LABEL))
        form = two["definitions"][name]
        assert "esitys" not in form["properties"] and body_field not in form["properties"]
        assert list(form["properties"])[0] == "kohde" and "kohde" in form["required"]
        tabs = {v["title"]: v["properties"] for v in form["properties"]["kohde"]["anyOf"]}
        assert list(tabs) == [SEED_LABEL, SECOND_LABEL]
        for label, names in ((SEED_LABEL, SEED_NAMES), (SECOND_LABEL, SECOND_NAMES)):
            assert tabs[label]["esitys"]["enum"] == [label] and tabs[label]["esitys"]["default"] == label
            prop = tabs[label][body_field]
            assert (prop.get("items") or prop)["enum"] == names, (name, label)
        assert with_choices(two, _choices(SEED_LABEL, SECOND_LABEL)) == two  # the next push changes nothing
        assert with_choices(two, _choices(SEED_LABEL)) == one  # back to one proposal: its own fields
        closed = with_choices(two, {"proposals": []})["definitions"][name]["properties"]  # every proposal closed
        assert "kohde" not in closed and "enum" not in closed["esitys"] and body_field in closed

    new = with_choices(_flow_schema(NewProposalIn), _choices(SEED_LABEL, SECOND_LABEL))
    props = new["definitions"]["NewProposalIn"]["properties"]
    assert "kohde" not in props and len(props["vastaanottajat"]["items"]["enum"]) == 6


def test_the_flows_read_the_tab_back_into_their_fields() -> None:
    """What the form sends from a tab ({"kohde": {"esitys", "vastaanottaja"}}) is the same run as
    the flow's own fields."""
    from flows.record_decision import RecordDecisionIn
    from flows.send_proposal import SendProposalIn

    common = {"kokouspaiva": "1.3.2021", "kohdat": [{"kohta": "1 – A", "paatos": "hylätty", "pykala": 3}]}
    tabbed = RecordDecisionIn.model_validate(
        {"kohde": {"esitys": SECOND_LABEL, "vastaanottaja": "Tammelan kunta"}, **common}
    )
    plain = RecordDecisionIn.model_validate({"esitys": SECOND_LABEL, "vastaanottaja": "Tammelan kunta", **common})
    assert tabbed == plain
    sent = SendProposalIn.model_validate({"kohde": {"esitys": SECOND_LABEL, "vastaanottajat": ["Tammelan kunta"]}})
    assert (sent.esitys, sent.vastaanottajat) == (SECOND_LABEL, ["Tammelan kunta"])
