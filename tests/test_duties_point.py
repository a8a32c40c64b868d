"""A proposal whose liaison is named in point 2 (``duty_description.duties_point: 2``): the whole
liaison path — validation, recording, the filled duty description and its email, the dashboard,
the import and the thank-you — follows that point instead of point 1."""

from __future__ import annotations

import json
import shutil
from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest
from typer.testing import CliRunner

from council.cli.commands import app
from council.config import PROJECT_ROOT, Settings, get_settings
from council.delivery.smtpd import LocalSmtpServer
from council.store.engine import upgrade
from tests.conftest import sync_and_mark_sent
from tests.helpers import docx_text

runner = CliRunner()

LIAISON_ARGS = [
    "--liaison-name",
    "Maija Meikäläinen",
    "--liaison-title",
    "hyvinvointikoordinaattori",
    "--liaison-email",
    "maija@jokioinen.example",
    "--liaison-work-time",
    "8 h/kk",
]


@pytest.fixture
def point_two(env: pytest.MonkeyPatch, smtp_server: LocalSmtpServer, tmp_path: Path) -> Settings:
    """The seed proposal copied with ``duties_point: 2`` (both languages), stored and sent."""
    data = tmp_path / "data"
    shutil.copytree(PROJECT_ROOT / "data", data)
    for path in (data / "proposals").glob("*.yaml"):
        text = path.read_text(encoding="utf-8")
        assert "  duties_point: 1\n" in text
        path.write_text(text.replace("  duties_point: 1\n", "  duties_point: 2\n"), encoding="utf-8")
    env.setenv("COUNCIL_DATA_DIR", str(data))
    env.setenv("COUNCIL_ROSTER_FILE", str(data / "rosters" / "forssan-seutu.yaml"))
    env.setenv("COUNCIL_LOCAL_SMTP_PORT", str(smtp_server.port))
    settings = get_settings()
    upgrade(settings.effective_database_url)
    sync_and_mark_sent(settings)
    return settings


def _record(point: str, *extra: str) -> object:
    return runner.invoke(
        app,
        ["record", "jokioinen", point, "hyväksytty ehdotuksen mukaisesti", "--date", "15.3.2021"]
        + ["--section", "59", *extra],
    )


def _duty_mails(server: LocalSmtpServer) -> list:
    parsed = [BytesParser(policy=policy.default).parsebytes(p.read_bytes()) for p in server.messages()]
    return [m for m in parsed if "Maija" in m.get_body(("plain",)).get_content()]


def test_liaison_on_point_one_is_refused_when_point_two_names_it(point_two: Settings) -> None:
    """With duties_point 2 a liaison given with point 1 is refused, naming point 2, and nothing is stored."""
    result = _record("1", *LIAISON_ARGS)
    assert result.exit_code == 2
    assert "vain kohtaan 2, ei kohtaan 1" in result.output
    status = json.loads(runner.invoke(app, ["status", "--json"]).output)
    jokioinen = next(r for r in status["bodies"] if r["body_id"] == "jokioinen")
    assert [c["status"] for c in jokioinen["cells"]] == ["sent", "sent", "sent", "sent"]


def test_liaison_named_in_point_two_gets_the_duty_description(
    point_two: Settings, smtp_server: LocalSmtpServer
) -> None:
    """Recording point 2 with a liaison writes the filled duty description, mails it to the registry
    and the liaison once, and the dashboard lists the liaison under point 2."""
    result = _record("2", *LIAISON_ARGS)
    assert result.exit_code == 0, result.output
    folder = point_two.outputs / point_two.proposal_id / "jokioinen"
    filled = folder / "Järjestöyhdyshenkilön_toimenkuva_Jokioisten_kunta_täytetty.docx"
    assert filled.is_file(), sorted(p.name for p in folder.iterdir())
    text = docx_text(filled)
    assert "Maija Meikäläinen" in text and "8 h/kk" in text
    mails = _duty_mails(smtp_server)
    assert len(mails) == 1
    assert sorted(a.strip() for a in mails[0]["To"].split(",")) == [
        "kirjaamo@jokioinen.example",
        "maija@jokioinen.example",
    ]
    assert "kohta 2)" in mails[0].get_body(("plain",)).get_content()
    board = json.loads((point_two.outputs / "dashboard" / "dashboard.json").read_text(encoding="utf-8"))
    assert board["duties_point"] == 2
    assert [(item["body_id"], item["name"]) for item in board["liaisons"]] == [
        ("jokioinen", "Maija Meikäläinen")
    ]
    html = (point_two.outputs / "dashboard" / "dashboard.html").read_text(encoding="utf-8")
    assert "Järjestöyhdyshenkilöt kohdan 2 päätöksistä" in html


def test_import_accepts_the_liaison_on_point_two_only(point_two: Settings, tmp_path: Path) -> None:
    """The bulk import follows the duties point: a liaison on point 1 is refused with its row and
    column, the same liaison on point 2 is imported."""
    header = (
        "vastaanottaja;kohta;paatos;kokouspaiva;pykala;"
        "yhdyshenkilo_nimi;yhdyshenkilo_nimike;yhdyshenkilo_sahkoposti;yhdyshenkilo_tyoaika\n"
    )
    liaison = "Maija Meikäläinen;koordinaattori;maija@jokioinen.example;8 h/kk"
    bad = tmp_path / "bad.csv"
    bad.write_text(header + f"jokioinen;1;hylätty;15.3.2021;59;{liaison}\n", encoding="utf-8")
    result = runner.invoke(app, ["import-decisions", str(bad)])
    assert result.exit_code == 2
    assert "rivi 2" in result.output and "yhdyshenkilo_nimi" in result.output
    assert "vain kohtaan 2, ei kohtaan 1" in result.output
    good = tmp_path / "good.csv"
    good.write_text(header + f"jokioinen;2;hylätty;15.3.2021;59;{liaison}\n", encoding="utf-8")
    result = runner.invoke(app, ["import-decisions", str(good)])
    assert result.exit_code == 0, result.output
    assert "Tuotu 1 päätöstä" in result.output


def test_thank_you_names_the_liaison_of_point_two(point_two: Settings, smtp_server: LocalSmtpServer) -> None:
    """When every point is decided, the thank-you names the liaison recorded with point 2."""
    assert _record("2", *LIAISON_ARGS).exit_code == 0
    for point in ("1", "3", "4"):
        result = runner.invoke(
            app,
            ["record", "jokioinen", point, "hylätty", "--date", "15.3.2021", "--section", f"6{point}"],
        )
        assert result.exit_code == 0, result.output
    parsed = [BytesParser(policy=policy.default).parsebytes(p.read_bytes()) for p in smtp_server.messages()]
    thanks = [m for m in parsed if "Kiitos" in str(m["Subject"]) or "kiitos" in str(m["Subject"])]
    assert len(thanks) == 1, [str(m["Subject"]) for m in parsed]
    body = thanks[0].get_body(("plain",)).get_content()
    assert "Maija Meikäläinen, hyvinvointikoordinaattori (maija@jokioinen.example)" in body
