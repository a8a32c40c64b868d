"""One validation layer for every way in (issue 15): the same bad value is refused alike by the
roster file, the record-decision form, the CLI and the settings, with a Finnish message naming the
field; settings and database problems end a command with a message, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import TypeAdapter, ValidationError
from typer.testing import CliRunner

from council.cli.commands import app
from council.config import PROJECT_ROOT, Settings
from council.content.loading import load_roster
from council.errors import ContentError, CouncilError
from models.fields import Email, Line, WorkTime

runner = CliRunner()
ROSTER_TEXT = (PROJECT_ROOT / "data/rosters/forssan-seutu.yaml").read_text(encoding="utf-8")

BAD_ADDRESSES = [
    ('"kirjaamo@jokioinen.example" <x@elsewhere.example>', "ilman nimeä"),
    ("Kirjaamo <kirjaamo@jokioinen.example>", "ilman nimeä"),
    ("kirjaamo@jokioinen.example, x@elsewhere.example", "ilman nimeä"),
    ("kirjaamo@jokioinen.example (x@elsewhere.example)", "ilman nimeä"),
    ("kirjaamo@jokioinen.example\u2028Bcc: x@elsewhere.example", "ohjausmerkkejä"),
    ("mäijä@jokioinen.example", "vain ASCII-merkkejä"),
    ("kirjaamo@@jokioinen.example", "täsmälleen yksi @-merkki"),
]
BAD_ADDRESS_IDS = ["display-name", "name-angle", "list", "comment", "line-separator", "utf8-local", "two-at"]

BAD_TEXT = [
    "Maija\u2028Meikäläinen",
    "Maija\u2029Meikäläinen",
    "Maija \u202eläniäkieM",
    "Maija \u2066x\u2069",
    "Maija\x85Meikäläinen",
    "Maija\x9bMeikäläinen",
    "Maija\x07",
    "Maija\ufffe",  # not a character: XML, so DOCX, cannot hold it
]
BAD_TEXT_IDS = ["U+2028", "U+2029", "RLO", "LRI-PDI", "NEL", "CSI", "BEL", "U+FFFE"]


@pytest.mark.parametrize(("value", "message"), BAD_ADDRESSES, ids=BAD_ADDRESS_IDS)
def test_email_field_accepts_a_bare_address_only(value: str, message: str) -> None:
    """Display names, lists, comments, controls and a non-ASCII local part are refused in Finnish."""
    with pytest.raises(ValidationError) as caught:
        TypeAdapter(Email).validate_python(value)
    assert message in str(caught.value)


def test_idn_domain_is_stored_in_its_ascii_form() -> None:
    """A domain with ä/ö is kept as its IDNA (xn--) form, which every SMTP server delivers to."""
    assert TypeAdapter(Email).validate_python(" kirjaamo@ypäjä.example ") == "kirjaamo@xn--ypj-rlab.example"


@pytest.mark.parametrize("value", BAD_TEXT, ids=BAD_TEXT_IDS)
def test_line_refuses_separators_bidi_and_c1_controls(value: str) -> None:
    """Every text field refuses the Unicode separators, bidirectional controls and C0/C1 controls."""
    with pytest.raises(ValidationError) as caught:
        TypeAdapter(Line).validate_python(value)
    assert "sisältää ohjausmerkkejä" in str(caught.value)


@pytest.mark.parametrize(
    "value", ["-8 h/kk", "0 h/kk", "kahdeksan", "8"], ids=["negative", "zero", "words", "no-unit"]
)
def test_work_time_is_a_positive_amount_with_a_unit(value: str) -> None:
    """A negative, zero or unit-less work time is refused (it would be printed in an official document)."""
    with pytest.raises(ValidationError) as caught:
        TypeAdapter(WorkTime).validate_python(value)
    assert "positiivisena määränä" in str(caught.value)


@pytest.mark.parametrize(("value", "message"), BAD_ADDRESSES[:5], ids=BAD_ADDRESS_IDS[:5])
def test_roster_refuses_a_hidden_address(tmp_path: Path, value: str, message: str) -> None:
    """The roster names the body and the field of a registry address that hides another one."""
    path = tmp_path / "roster.yaml"
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\u2028", "\\L")
    path.write_text(ROSTER_TEXT.replace('"kirjaamo@jokioinen.example"', f'"{escaped}"', 1), encoding="utf-8")
    with pytest.raises(ContentError) as caught:
        load_roster(path)
    assert "bodies[3].registry_email" in str(caught.value) and message in str(caught.value)


@pytest.mark.parametrize(("value", "message"), BAD_ADDRESSES, ids=BAD_ADDRESS_IDS)
def test_record_form_and_cli_refuse_the_same_addresses(sent: Settings, value: str, message: str) -> None:
    """The record-decision form and `council record` refuse the liaison address alike; nothing is stored."""
    from flows.record_decision import RecordDecisionIn

    liaison = {"nimi": "Maija", "nimike": "koordinaattori", "sahkoposti": value, "tyoaika": "8 h/kk"}
    form = {
        "vastaanottaja": "Jokioisten kunta",
        "kokouspaiva": "15.3.2021",
        "kohdat": [{"kohta": "1 – Järjestöyhdyshenkilö", "paatos": "hylätty", "pykala": 59}],
        "yhdyshenkilo": liaison,
    }
    with pytest.raises(CouncilError) as caught:
        RecordDecisionIn.model_validate(form).decisions()
    assert message in str(caught.value)
    result = runner.invoke(
        app,
        ["record", "jokioinen", "1", "hylätty", "--date", "15.3.2021", "--section", "59"]
        + ["--liaison-name", "Maija", "--liaison-title", "koordinaattori"]
        + ["--liaison-email", value, "--liaison-work-time", "8 h/kk"],
    )
    assert result.exit_code == 2 and message in result.output, result.output
    status = runner.invoke(app, ["status", "--json"]).output
    assert '"outcome": "hylätty"' not in status


def test_record_refuses_a_negative_work_time_like_the_import(sent: Settings) -> None:
    """`council record` refuses -8 h/kk (the import always did), so no duty description states it."""
    result = runner.invoke(
        app,
        ["record", "jokioinen", "1", "hylätty", "--date", "15.3.2021", "--section", "59"]
        + ["--liaison-name", "Maija", "--liaison-title", "koordinaattori"]
        + ["--liaison-email", "maija@jokioinen.example", "--liaison-work-time", "-8 h/kk"],
    )
    assert result.exit_code == 2
    assert "Järjestöyhdyshenkilö, Työaika" in result.output and "positiivisena määränä" in result.output


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("COUNCIL_SMTP_TLS", "foo", "COUNCIL_SMTP_TLS: sallitut arvot ovat none, starttls ja ssl"),
        ("COUNCIL_SMTP_PORT", "", "COUNCIL_SMTP_PORT:"),
        ("COUNCIL_BATCH_SIZE", "0", "COUNCIL_BATCH_SIZE:"),
        ("COUNCIL_SENDER", '"a@b.example" <x@evil.example>', "COUNCIL_SENDER: anna pelkkä sähköpostiosoite"),
    ],
    ids=["tls-mode", "empty-port", "zero-batch", "display-name-sender"],
)
@pytest.mark.parametrize("command", [["status"], ["send"], ["follow-up", "--dry-run"]], ids=lambda c: c[0])
def test_bad_setting_is_a_finnish_message_in_every_command(
    sent: Settings, monkeypatch: pytest.MonkeyPatch, name: str, value: str, message: str, command: list[str]
) -> None:
    """A setting that does not validate ends any command with exit 2 and a message naming it."""
    monkeypatch.setenv(name, value)
    result = runner.invoke(app, command)
    assert result.exit_code == 2, result.output
    assert "Virheellinen asetus" in result.output and message in result.output
    assert "Traceback" not in result.output


def test_a_database_in_a_missing_folder_is_refused_and_not_created(
    env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """send and init refuse a SQLite path whose folder does not exist; nothing is created."""
    env.setenv("COUNCIL_DATABASE_URL", f"sqlite:///{tmp_path / 'typo' / 'council.db'}")
    for command in (["send"], ["init"], ["status"]):
        result = runner.invoke(app, command)
        assert result.exit_code == 2, result.output
        assert "Virhe:" in result.output and "typo" in result.output
    assert not (tmp_path / "typo").exists()


def test_a_missing_postgresql_database_is_named_without_its_password(
    env: pytest.MonkeyPatch, postgres_server: str
) -> None:
    """A PostgreSQL URL naming a database that does not exist: one Finnish line, password hidden."""
    from sqlalchemy.engine import make_url

    url = make_url(postgres_server).set(database="ei_ole_olemassa", password="salasana")
    env.setenv("COUNCIL_DATABASE_URL", url.render_as_string(hide_password=False))
    result = runner.invoke(app, ["status"])
    assert result.exit_code == 2, result.output
    assert "ei_ole_olemassa" in result.output and "tietokantaa ei ole" in result.output
    assert "salasana" not in result.output and "Traceback" not in result.output


def test_a_roster_path_that_is_a_folder_is_a_message(
    sent: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """COUNCIL_ROSTER_FILE pointing at a folder: a Finnish message naming it, exit 2."""
    monkeypatch.setenv("COUNCIL_ROSTER_FILE", str(tmp_path))
    result = runner.invoke(app, ["send", "--today", "1.3.2021"])
    assert result.exit_code == 2, result.output
    assert str(tmp_path) in result.output and "Traceback" not in result.output


def test_a_file_that_is_not_a_decision_table_gets_one_message(sent: Settings, tmp_path: Path) -> None:
    """A large text file given as an import: one short message, not one per cell (was ~50 MB)."""
    path = tmp_path / "loki.csv"
    path.write_text("\n".join(f"rivi {i};teksti;{'x' * 40};" + ";".join("y" * 20) for i in range(200_000)))
    result = runner.invoke(app, ["import-decisions", str(path)])
    assert result.exit_code == 2
    assert "ei ole päätöstaulukko" in result.output and "loki.csv" in result.output
    assert len(result.output) < 1500, len(result.output)


def _truncated_xlsx(tmp_path: Path, rows: int = 3000) -> Path:
    """A real XLSX whose worksheet XML is cut in the middle (a half-copied attachment)."""
    import zipfile

    from openpyxl import Workbook

    whole = tmp_path / "koko.xlsx"
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["vastaanottaja", "kohta", "paatos", "kokouspaiva", "pykala"])
    for i in range(rows):
        sheet.append(["jokioinen", 2, "hylätty", "15.3.2021", i + 1])
    workbook.save(whole)
    cut = tmp_path / "katkennut.xlsx"
    with zipfile.ZipFile(whole) as source, zipfile.ZipFile(cut, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            data = source.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = data[: len(data) // 2]
            target.writestr(item, data)
    return cut


def test_a_truncated_xlsx_is_a_message_and_nothing_is_stored(sent: Settings, tmp_path: Path) -> None:
    """The file opens, then breaks while its rows are read: a Finnish message naming the file."""
    import json

    before = json.loads(runner.invoke(app, ["status", "--json"]).output)["bodies"]
    result = runner.invoke(app, ["import-decisions", str(_truncated_xlsx(tmp_path))])
    assert result.exit_code == 2, result.output
    assert "katkennut.xlsx" in result.output and "vioittunut tai katkennut" in result.output
    assert "Traceback" not in result.output
    assert json.loads(runner.invoke(app, ["status", "--json"]).output)["bodies"] == before
