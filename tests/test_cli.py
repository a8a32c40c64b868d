"""The `council` command line: init, render, send, status — with Finnish messages and exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from council.cli.commands import app
from council.config import Settings
from council.delivery.smtpd import LocalSmtpServer
from tests.helpers import docx_text

runner = CliRunner()


def test_init_send_status_round_trip(settings: Settings, smtp_server: LocalSmtpServer) -> None:
    """init stores the roster, send mails every body once, status --json shows `sent` everywhere."""
    result = runner.invoke(app, ["init"])
    assert result.exit_code == 0, result.output
    assert "Vastaanottajia: 6" in result.output
    result = runner.invoke(app, ["send", "--today", "1.3.2021"])
    assert result.exit_code == 0, result.output
    assert "Lähetetty: 6" in result.output
    result = runner.invoke(app, ["send", "--today", "1.3.2021"])
    assert result.exit_code == 0 and "Ei lähetettävää" in result.output
    assert len(smtp_server.messages()) == 6
    result = runner.invoke(app, ["status", "--json"])
    data = json.loads(result.output)
    assert data["proposal_id"] == settings.proposal_id
    assert [p["number"] for p in data["points"]] == [1, 2, 3, 4]
    assert {c["status"] for row in data["bodies"] for c in row["cells"]} == {"sent"}
    assert {row["messages"]["proposal/0"] for row in data["bodies"]} == {"sent"}


def test_render_writes_documents_for_one_body(settings: Settings, tmp_path: Path) -> None:
    """render --body writes that body's two DOCX and nothing else."""
    out = tmp_path / "docs"
    result = runner.invoke(app, ["render", "--out", str(out), "--body", "humppila", "--date", "2021-02-15"])
    assert result.exit_code == 0, result.output
    files = sorted(p.name for p in out.rglob("*.docx"))
    assert files == ["Esitys_Humppilan_kunta.docx", "Järjestöyhdyshenkilön_toimenkuva_Humppilan_kunta.docx"]
    assert "Humppilan kunnanhallitus päättää" in docx_text(out / "humppila" / files[0])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["render", "--out", "x", "--body", "helsinki"], "Tuntematon vastaanottaja 'helsinki'"),
        (["render", "--out", "x", "--date", "2021-02-30"], "virheellinen päivämäärä"),
        (["send", "--body", "../etc"], "Tuntematon vastaanottaja"),
    ],
    ids=["unknown-body", "impossible-date", "path-as-body"],
)
def test_bad_arguments_exit_non_zero_with_a_finnish_message(
    settings: Settings, args: list[str], message: str
) -> None:
    """Bad CLI input exits with code 2 and says what was wrong."""
    runner.invoke(app, ["init"])
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert message in result.output


def test_status_before_init_tells_to_run_init(env: pytest.MonkeyPatch) -> None:
    """status on an empty database points the user to `council init`."""
    result = runner.invoke(app, ["status"])
    assert result.exit_code == 2 and "council init" in result.output


def test_record_and_history(settings: Settings) -> None:
    """`council record` stores the decision and `council history jokioinen` shows the event."""
    from tests.conftest import sync_and_mark_sent

    sync_and_mark_sent(settings)
    result = runner.invoke(
        app,
        [
            "record",
            "jokioinen",
            "1",
            "hyväksytty ehdotuksen mukaisesti",
            "--date",
            "15.3.2021",
            "--section",
            "59",
            "--liaison-name",
            "Maija Meikäläinen",
            "--liaison-title",
            "hyvinvointikoordinaattori",
            "--liaison-email",
            "maija@jokioinen.example",
            "--liaison-work-time",
            "8 h/kk",
            "--by",
            "Niina",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "kohta 1: hyväksytty ehdotuksen mukaisesti (15.3.2021 § 59)" in result.output
    result = _wide(["history", "jokioinen"])
    assert result.exit_code == 0 and "päätös kirjattu (Niina)" in result.output
    assert (
        "versio 1: hyväksytty ehdotuksen mukaisesti 15.3.2021 § 59, Jokioisten kunnanhallitus"
        in result.output
    )
    data = json.loads(runner.invoke(app, ["status", "--json"]).output)
    cell = next(r for r in data["bodies"] if r["body_id"] == "jokioinen")["cells"][0]
    assert cell["status"] == "final" and cell["section"] == 59


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["jokioinen", "1", "hyväksytty", "--date", "15.3.2021", "--section", "59"], "tuntematon päätös"),
        (["jokioinen", "1", "hylätty", "--date", "15.3.2021", "--section", "abc"], "kokonaislukuna"),
        (["jokioinen", "5", "hylätty", "--date", "15.3.2021", "--section", "5"], "kohtaa 5"),
        (["jokioinen", "1", "hylätty", "--date", "1.1.2099", "--section", "5"], "tulevaisuudessa"),
        (
            [
                "jokioinen",
                "2",
                "hylätty",
                "--date",
                "1.1.2021",
                "--section",
                "5",
                "--link",
                "ftp://x.example",
            ],
            "Pöytäkirjanotteen linkki: linkin on oltava http(s)-osoite",
        ),
        (["oulu", "2", "hylätty", "--date", "1.1.2021", "--section", "5"], "Tuntematon vastaanottaja"),
    ],
    ids=["bad-outcome", "section-abc", "point-5-of-4", "future-date", "ftp-link", "unknown-body"],
)
def test_record_refuses_bad_input(settings: Settings, args: list[str], message: str) -> None:
    """Bad decisions exit with code 2 and a message naming what is wrong."""
    from tests.conftest import sync_and_mark_sent

    sync_and_mark_sent(settings)
    result = runner.invoke(app, ["record", *args])
    assert result.exit_code == 2
    assert message in result.output


def test_import_and_export_commands(settings: Settings, tmp_path: Path) -> None:
    """import-decisions reports what it wrote; export-decisions writes the same columns back."""
    from tests.conftest import sync_and_mark_sent

    sync_and_mark_sent(settings)
    path = tmp_path / "in.csv"
    path.write_text(
        "vastaanottaja;kohta;paatos;kokouspaiva;pykala\nypaja;4;hylätty;2.2.2021;9\n", encoding="utf-8"
    )
    result = runner.invoke(app, ["import-decisions", str(path)])
    assert result.exit_code == 0 and "Tuotu 1" in result.output
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "vastaanottaja;kohta;paatos;kokouspaiva;pykala\nypaja;4;hylätty;2.2.2021;x\n", encoding="utf-8"
    )
    result = runner.invoke(app, ["import-decisions", str(bad)])
    assert result.exit_code == 2 and "rivi 2" in result.output and "pykala" in result.output
    result = runner.invoke(app, ["export-decisions", str(tmp_path / "out.csv")])
    assert result.exit_code == 0 and "Viety 1" in result.output


def test_agenda_holds_reminders_until_after_the_meeting(
    settings: Settings, smtp_server: LocalSmtpServer
) -> None:
    """`council agenda` puts a body's open points on a meeting; follow-up skips it until the day after."""
    runner.invoke(app, ["send", "--today", "2026-05-15"])
    result = runner.invoke(app, ["agenda", "tammela", "--date", "9.6.2026"])
    assert result.exit_code == 0, result.output
    assert "Tammelan kunta: 4 kohtaa esityslistalla 9.6.2026" in result.output
    due = runner.invoke(app, ["follow-up", "--today", "2026-06-05", "--dry-run"]).output
    assert "Jokioisten kunta saisi muistutuksen 1" in due and "Tammelan kunta" not in due
    after = runner.invoke(app, ["follow-up", "--today", "2026-06-10", "--dry-run"]).output
    assert "Tammelan kunta saisi muistutuksen 1" in after
    data = json.loads(runner.invoke(app, ["status", "--json"]).output)
    cells = next(r for r in data["bodies"] if r["body_id"] == "tammela")["cells"]
    assert {c["status"] for c in cells} == {"on_agenda"} and cells[0]["meeting_date"] == "2026-06-09"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["oulu", "--date", "9.6.2026"], "Tuntematon vastaanottaja 'oulu'"),
        (["tammela", "--date", "9.6.2026", "--point", "5"], "kohtaa 5"),
        (["tammela", "--date", "31.6.2026"], "--date"),
        (["tammela", "--date", "9.6.2207"], "kenttä 'Kokouspäivä': kokouspäivä 9.6.2207 ei ole välillä"),
    ],
    ids=["unknown-body", "point-5-of-4", "impossible-date", "year-2207"],
)
def test_agenda_refuses_bad_input(
    settings: Settings, smtp_server: LocalSmtpServer, args: list[str], message: str
) -> None:
    """Unknown bodies, missing points and impossible dates exit 2 with the reason."""
    runner.invoke(app, ["send", "--today", "1.3.2021"])
    result = runner.invoke(app, ["agenda", *args])
    assert result.exit_code == 2 and message in result.output


def test_history_shows_helsinki_time(settings: Settings) -> None:
    """An event stored at 22.30 UTC on 20.11.2026 is listed at 00.30 on 21.11. (Helsinki time)."""
    from datetime import UTC, datetime

    from sqlalchemy import update
    from sqlalchemy.orm import Session

    from council.store.engine import make_engine
    from models.tables import Event
    from tests.conftest import sync_and_mark_sent

    sync_and_mark_sent(settings, ["jokioinen"])
    with Session(make_engine(settings.effective_database_url)) as session, session.begin():
        session.execute(
            update(Event)
            .where(Event.body_id == "jokioinen")
            .values(occurred_at=datetime(2026, 11, 20, 22, 30, tzinfo=UTC))
        )
    result = _wide(["history", "jokioinen"])
    assert result.exit_code == 0, result.output
    assert "21.11.2026 00.30" in result.output and "20.11.2026 22.30" not in result.output
    assert "Jokioisten kunta" in result.output


def test_agenda_with_nothing_open_says_so(settings: Settings, smtp_server: LocalSmtpServer) -> None:
    """Before the proposal is sent there is nothing to put on an agenda: exit 2 with the reason."""
    runner.invoke(app, ["init"])
    result = runner.invoke(app, ["agenda", "tammela", "--date", "9.6.2026"])
    assert result.exit_code == 2
    assert "ei avoimia kohtia: esitystä ei ole lähetetty tai kaikki kohdat on päätetty" in result.output


def test_history_of_an_unknown_body_is_an_error_and_shows_the_version_first(settings: Settings) -> None:
    """A typo in the body id is refused; a recorded decision's details start with its version (1 for
    the first recording), and a long note wraps in the table instead of being cut."""
    from tests.conftest import sync_and_mark_sent

    sync_and_mark_sent(settings, ["jokioinen"])
    result = runner.invoke(app, ["history", "jokionen"])
    assert result.exit_code == 2 and "Tuntematon vastaanottaja 'jokionen'" in result.output
    args = [
        "record",
        "jokioinen",
        "2",
        "hylätty",
        "--date",
        "15.3.2021",
        "--section",
        "60",
        "--note",
        "x" * 400,
    ]
    recorded = runner.invoke(app, args).output
    assert recorded.rsplit("versio ", 1)[1].split()[0] == "1"
    wide = _wide(["history", "jokioinen"]).output
    line = [line for line in wide.splitlines() if "kohta 2" in line and "päätös kirjattu" in line][-1]
    assert "versio 1: hylätty 15.3.2021 § 60, Jokioisten kunnanhallitus, lisätieto:" in line
    narrow = runner.invoke(app, ["history", "jokioinen"]).output  # 80 columns
    assert narrow.count("x") == 400 and "…" not in narrow
    assert max(len(line) for line in narrow.splitlines()) <= 80
    for internal in ("status=", "decided", "not_sent", "meeting_date", "deciding_body"):
        assert internal not in wide


def _wide(args: list[str]):  # noqa: ANN202 - click's Result
    """Run a command on a 250-column console, so each table row is one line."""
    from council.cli.app import console

    saved = console.width
    console.width = 250
    try:
        return runner.invoke(app, args)
    finally:
        console.width = saved


def test_a_command_before_init_leaves_no_empty_database(env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """`council status` on a fresh machine says to run init and creates no database file."""
    result = runner.invoke(app, ["status"])
    assert result.exit_code == 2 and "council init" in result.output
    assert not (tmp_path / "council.db").exists()


def test_bodies_can_be_named_by_id_in_any_case_or_by_official_name(
    settings: Settings, smtp_server: LocalSmtpServer
) -> None:
    """'Humppila' and 'Jokioisten kunta' find their bodies; a typo lists the known ids."""
    runner.invoke(app, ["send", "--today", "1.3.2021"])
    result = runner.invoke(
        app, ["record", "Humppila", "2", "hylätty", "--date", "15.3.2021", "--section", "7"]
    )
    assert result.exit_code == 0 and "Kirjattu: Humppilan kunta, kohta 2" in result.output, result.output
    result = runner.invoke(app, ["agenda", "Jokioisten kunta", "--date", "9.6.2026"])
    assert result.exit_code == 0 and "Jokioisten kunta: 4 kohtaa esityslistalla 9.6.2026" in result.output, (
        result.output
    )
    result = runner.invoke(
        app, ["record", "jokionen", "2", "hylätty", "--date", "15.3.2021", "--section", "7"]
    )
    assert result.exit_code == 2
    assert (
        "Tuntematon vastaanottaja 'jokionen'. Tunnetut: forssa, fshky, humppila, jokioinen" in result.output
    )
