"""The committee's commands of `council`: dashboard (--out, --serve), report (--pdf), docs-preview,
digest and smtp-server — exit codes, the files they write, their Finnish output and error cases.

The blocking commands (`dashboard --serve`, `smtp-server`) run as subprocesses of the installed
console script and are stopped with SIGINT, as a user's Ctrl-C would.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import smtplib
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from council.cli.commands import app
from council.config import Settings
from council.delivery.smtpd import LocalSmtpServer
from tests.conftest import free_port
from tests.helpers import docx_text, read_eml

runner = CliRunner()
COUNCIL = str(Path(sys.executable).parent / "council")
BODY_NAMES = [
    "Forssan kaupunki",
    "Humppilan kunta",
    "Jokioisten kunta",
    "Tammelan kunta",
    "Ypäjän kunta",
    "Forssan seudun hyvinvointikuntayhtymä",
]
COMMITTEE = "hyvinvointivaliokunta@forssanseutu.example, puheenjohtaja@forssanseutu.example"
SHORT_TITLE = "Järjestöjen ja julkisen sektorin yhteistyömalli"


# --- helpers ----------------------------------------------------------------------------------------


def _record_jokioinen(*extra: str) -> None:
    """Jokioinen decides point 1 through the CLI (1 of 24 cells: 4 % overall, 16 % of point 1)."""
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
            *extra,
        ],
    )
    assert result.exit_code == 0, result.output


def _without_tools(env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A PATH with neither LibreOffice nor poppler on it, as on a machine without them."""
    empty = tmp_path / "empty-path"
    empty.mkdir()
    env.setenv("PATH", str(empty))


def _subprocess_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The test's own COUNCIL_ settings for a `council` subprocess, nothing inherited."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COUNCIL_", "PREFECT_"))}
    env.update(
        {
            "COUNCIL_OUTPUTS_DIR": str(tmp_path / "outputs"),
            "COUNCIL_DATABASE_URL": f"sqlite:///{tmp_path / 'council.db'}",
            "COUNCIL_STATE_DIR": str(tmp_path / "state"),
            **extra,
        }
    )
    return env


def _wait_for(proc: subprocess.Popen, ready: Callable[[], bool], what: str, timeout: float = 60) -> None:
    """Poll ``ready`` until it is true; fail early if the process exits, or at the deadline."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            out, err = proc.communicate()
            pytest.fail(f"{what}: process exited with {proc.returncode}\n{out}\n{err}")
        if ready():
            return
        time.sleep(0.05)
    pytest.fail(f"{what}: not ready in {timeout} s")


def _interrupt(proc: subprocess.Popen) -> tuple[str, str]:
    """Ctrl-C: SIGINT, then the process's output once it has exited."""
    proc.send_signal(signal.SIGINT)
    return proc.communicate(timeout=30)


@pytest.fixture
def start() -> Iterator[Callable[..., subprocess.Popen]]:
    """Start `council ...` subprocesses; any still running at teardown are killed (by handle)."""
    started: list[subprocess.Popen] = []

    def _start(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.Popen:
        proc = subprocess.Popen(
            [COUNCIL, *args], env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        started.append(proc)
        return proc

    yield _start
    for proc in started:
        if proc.poll() is None:
            proc.kill()
            proc.communicate(timeout=30)


# --- dashboard --------------------------------------------------------------------------------------


def test_dashboard_writes_default_files_and_a_copy_at_out(sent: Settings, tmp_path: Path) -> None:
    """`dashboard --out` rewrites outputs/dashboard/ and copies the page and its JSON to --out,
    showing every body, the recorded decision and its percentages."""
    _record_jokioinen()
    default = sent.outputs / "dashboard"
    shutil.rmtree(default)  # `record` refreshed it; the command itself must write it again
    out = tmp_path / "site" / "nested" / "tila.html"
    result = runner.invoke(app, ["dashboard", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert f"Tilannesivu: {out} (ja tila.json)" in result.output
    assert (default / "dashboard.html").is_file() and (default / "dashboard.json").is_file()
    page = out.read_text(encoding="utf-8")
    assert page == (default / "dashboard.html").read_text(encoding="utf-8")
    for name in BODY_NAMES:
        assert name in page
    assert "hyväksytty ehdotuksen mukaisesti" in page
    assert '<span class="big">4 %</span>' in page
    assert "<strong>16 %</strong> (1/6)" in page
    data = json.loads(out.with_suffix(".json").read_text(encoding="utf-8"))
    assert data["proposal_id"] == sent.proposal_id
    assert data["overall"] == {"decided": 1, "total": 24, "percent": 4}
    jokioinen = next(b for b in data["bodies"] if b["body_id"] == "jokioinen")
    assert jokioinen["cells"][0]["status"] == "final" and jokioinen["cells"][0]["section"] == 59


def test_dashboard_without_out_names_the_default_page(sent: Settings) -> None:
    """Without --out the command writes and names outputs/dashboard/dashboard.html."""
    result = runner.invoke(app, ["dashboard"])
    assert result.exit_code == 0, result.output
    page = sent.outputs / "dashboard" / "dashboard.html"
    assert f"Tilannesivu: {page}" in result.output
    assert "0 %" in page.read_text(encoding="utf-8") and "Ypäjän kunta" in page.read_text(encoding="utf-8")


def test_dashboard_writes_every_proposal_and_the_index(sent: Settings, tmp_path: Path) -> None:
    """With two proposals `dashboard` writes both page sets and the index and names the index;
    `--proposal` puts the chosen one's page at the top and at --out."""
    from tests.test_dashboard import SECOND, add_second_proposal

    add_second_proposal(sent, tmp_path)
    result = runner.invoke(app, ["dashboard"])
    assert result.exit_code == 0, result.output
    folder = sent.outputs / "dashboard"
    assert f"Kaikki esitykset: {folder / 'index.html'}" in result.output
    index = json.loads((folder / "esitykset.json").read_text(encoding="utf-8"))
    assert {e["proposal_id"] for e in index["proposals"]} == {sent.proposal_id, SECOND}
    assert (folder / SECOND / "dashboard.html").is_file() and (folder / sent.proposal_id / "dashboard.html").is_file()
    assert json.loads((folder / "dashboard.json").read_text(encoding="utf-8"))["proposal_id"] == sent.proposal_id

    out = tmp_path / "toinen.html"
    result = runner.invoke(app, ["--proposal", SECOND, "dashboard", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert json.loads(out.with_suffix(".json").read_text(encoding="utf-8"))["proposal_id"] == SECOND
    assert json.loads((folder / "dashboard.json").read_text(encoding="utf-8"))["proposal_id"] == SECOND
    assert "Ypäjän kunta" not in out.read_text(encoding="utf-8")


def test_dashboard_before_init_tells_to_run_init(env: pytest.MonkeyPatch) -> None:
    """On an empty database the dashboard exits 2 and points to `council init`."""
    result = runner.invoke(app, ["dashboard"])
    assert result.exit_code == 2 and "council init" in result.output


def test_dashboard_out_into_a_file_is_refused_in_finnish(sent: Settings, tmp_path: Path) -> None:
    """--out below a regular file exits 2 with a Finnish message, like `render --out` does."""
    blocker = tmp_path / "tiedosto"
    blocker.write_text("ei kansio", encoding="utf-8")
    result = runner.invoke(app, ["dashboard", "--out", str(blocker / "tila.html")])
    assert result.exit_code == 2, result.output
    assert "Virhe:" in result.output and "--out" in result.output


def test_dashboard_serve_is_read_only_and_stops_on_ctrl_c(
    sent: Settings, tmp_path: Path, start: Callable[..., subprocess.Popen]
) -> None:
    """`dashboard --serve --port P` serves the index at / and the proposal's page on 127.0.0.1:P, refuses POST with 405,
    and exits 0 on SIGINT. (The handler itself is tested in test_dashboard.py.)"""
    _record_jokioinen()
    shutil.rmtree(sent.outputs / "dashboard")  # what is served must come from this command
    port = free_port()
    proc = start(["dashboard", "--serve", "--port", str(port)], _subprocess_env(tmp_path), tmp_path)
    url = f"http://127.0.0.1:{port}/"

    def serving() -> bool:
        try:
            return httpx.get(url, timeout=2).status_code == 200
        except httpx.TransportError:
            return False

    _wait_for(proc, serving, "dashboard --serve")
    index = httpx.get(url, timeout=10)  # / is the index of every proposal
    assert index.headers["content-type"].startswith("text/html")
    assert "1/24 kohtaa päätetty" in index.text and f'href="{sent.proposal_id}/dashboard.html"' in index.text
    page = httpx.get(f"{url}{sent.proposal_id}/dashboard.html", timeout=10)
    assert "Jokioisten kunta" in page.text and '<span class="big">4 %</span>' in page.text
    assert httpx.get(url + "dashboard.html", timeout=10).text == page.text.replace("../index.html", "index.html")
    data = httpx.get(url + "dashboard.json", timeout=10).json()
    assert data["overall"] == {"decided": 1, "total": 24, "percent": 4}
    on_disk = (sent.outputs / "dashboard" / "dashboard.html").read_bytes()
    refused = httpx.post(url + "dashboard.html", content=b"<p>muutettu</p>", timeout=10)
    assert refused.status_code == 405 and "Vain luku" in refused.text
    assert (sent.outputs / "dashboard" / "dashboard.html").read_bytes() == on_disk
    out, err = _interrupt(proc)
    assert proc.returncode == 0, out + err
    assert f"Tilannesivu selaimessa: http://127.0.0.1:{port}/ (vain luku)" in out
    assert "Traceback" not in err
    with pytest.raises(httpx.TransportError):
        httpx.get(url, timeout=2)


def test_dashboard_serve_on_a_busy_port_exits_2_in_finnish(sent: Settings) -> None:
    """--port already taken: exit 2 with a Finnish message naming the port, no traceback."""
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = runner.invoke(app, ["dashboard", "--serve", "--port", str(port)])
    assert result.exit_code == 2, result.output
    assert f"Virhe: --port {port}: tilannesivua ei voitu tarjota" in result.output


def test_dashboard_serve_on_port_0_prints_the_port_it_got(
    sent: Settings, tmp_path: Path, start: Callable[..., subprocess.Popen]
) -> None:
    """--port 0 lets the system choose; the printed address is the real one and answers."""
    proc = start(
        ["dashboard", "--serve", "--port", "0"], _subprocess_env(tmp_path, PYTHONUNBUFFERED="1"), tmp_path
    )
    assert proc.stdout is not None
    deadline = time.monotonic() + 60
    line = ""
    while "Tilannesivu selaimessa:" not in line:
        assert time.monotonic() < deadline and proc.poll() is None, "no address printed"
        line = proc.stdout.readline()
    url = line.split("Tilannesivu selaimessa: ", 1)[1].split(" ", 1)[0]
    assert url.startswith("http://127.0.0.1:") and not url.startswith("http://127.0.0.1:0/")
    assert httpx.get(url, timeout=10).status_code == 200
    _interrupt(proc)
    assert proc.returncode == 0


# --- report -----------------------------------------------------------------------------------------


def test_report_is_per_proposal(sent: Settings, tmp_path: Path) -> None:
    """`--proposal ID report` reports that proposal only: its title, its three bodies, its progress,
    into outputs/<ID>/."""
    from tests.test_dashboard import SECOND, add_second_proposal

    add_second_proposal(sent, tmp_path)
    result = runner.invoke(app, ["--proposal", SECOND, "report"])
    assert result.exit_code == 0, result.output
    path = Path(result.output.strip())
    assert path.parent == sent.outputs / SECOND
    text = docx_text(path)
    assert "Tilannekatsaus: Liikuntapaikkojen yhteiskäyttö" in text
    assert "Kohdista on päätetty 1/12 (8 %)." in text
    assert "Humppilan kunta" in text and "Ypäjän kunta" not in text


def test_report_writes_the_status_report_docx(sent: Settings, tmp_path: Path) -> None:
    """`report --out` writes one Tilannekatsaus DOCX there with the Finnish headings, every body and
    the decision; without --out it goes to outputs/<proposal>/."""
    _record_jokioinen()
    out = tmp_path / "raportit"
    result = runner.invoke(app, ["report", "--out", str(out)])
    assert result.exit_code == 0, result.output
    [path] = list(out.glob("*.docx"))
    assert path.name.startswith("Tilannekatsaus_")
    assert result.output.strip() == str(path)
    text = docx_text(path)
    for heading in (
        f"Tilannekatsaus: {SHORT_TITLE}",
        "Eteneminen kohdittain",
        "Päätökset vastaanottajittain",
        "Nimetyt järjestöyhdyshenkilöt",
        "Muistutukset",
    ):
        assert heading in text
    assert "Kohdista on päätetty 1/24 (4 %)." in text
    for name in BODY_NAMES:
        assert name in text
    assert "hyväksytty ehdotuksen mukaisesti, 15.3.2021 § 59" in text
    assert "Muistutuksia ei ole lähetetty." in text

    result = runner.invoke(app, ["report"])
    assert result.exit_code == 0, result.output
    [default] = list((sent.outputs / sent.proposal_id).glob("Tilannekatsaus_*.docx"))
    assert result.output.strip() == str(default)
    assert "1/24 (4 %)" in docx_text(default)


def test_report_pdf_without_libreoffice_says_what_to_install(
    sent: Settings, env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """`report --pdf` with no LibreOffice on PATH exits 2 naming the package to install."""
    _without_tools(env, tmp_path)
    result = runner.invoke(app, ["report", "--pdf", "--out", str(tmp_path / "r")])
    assert result.exit_code == 2
    assert "Virhe:" in result.output and "libreoffice-writer-nogui" in result.output
    assert not list((tmp_path / "r").glob("*.pdf"))


def test_report_out_below_a_file_is_refused_in_finnish(sent: Settings, tmp_path: Path) -> None:
    """--out below a regular file exits 2 with a Finnish message."""
    blocker = tmp_path / "tiedosto"
    blocker.write_text("ei kansio", encoding="utf-8")
    result = runner.invoke(app, ["report", "--out", str(blocker / "raportit")])
    assert result.exit_code == 2, result.output
    assert "Virhe:" in result.output


@pytest.mark.libreoffice
def test_report_pdf_writes_a_pdfa_copy(libreoffice: str, sent: Settings, tmp_path: Path) -> None:
    """`report --pdf` prints the DOCX and a PDF/A beside it whose text is the status report."""
    _record_jokioinen()
    out = tmp_path / "raportit"
    result = runner.invoke(app, ["report", "--pdf", "--out", str(out)])
    assert result.exit_code == 0, result.output
    [docx] = list(out.glob("*.docx"))
    pdf = docx.with_suffix(".pdf")
    assert result.output.split() == [str(docx), str(pdf)]
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF") and b"pdfaid:part" in data
    text = " ".join(
        subprocess.run(
            ["pdftotext", str(pdf), "-"], check=True, capture_output=True, text=True
        ).stdout.split()
    )
    assert f"Tilannekatsaus: {SHORT_TITLE}" in text
    assert "Kohdista on päätetty 1/24 (4 %)" in text and "Jokioisten kunta" in text


# --- docs-preview -----------------------------------------------------------------------------------


def _expected_preview_names() -> set[str]:
    names = {"Tilannekatsaus.docx"}
    for name in BODY_NAMES:
        stem = name.replace(" ", "_")
        names |= {
            f"Esitys_{stem}.docx",
            f"Esitys_{stem}_muistutus_1.docx",
            f"Järjestöyhdyshenkilön_toimenkuva_{stem}.docx",
            f"Järjestöyhdyshenkilön_toimenkuva_{stem}_täytetty.docx",
        }
    return names


def test_docs_preview_without_libreoffice_writes_the_docx_and_says_why_no_png(
    sent: Settings, env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """docs-preview writes 4 documents per body plus the status report as DOCX; without LibreOffice
    it says the PNG previews were skipped and still exits 0."""
    _without_tools(env, tmp_path)
    result = runner.invoke(app, ["docs-preview"])
    assert result.exit_code == 0, result.output
    folder = sent.outputs / "preview" / "docx"
    assert f"Asiakirjoja 25: {folder}" in result.output
    assert "PNG-esikatselut ohitettiin" in result.output and "Esikatselukuvia" not in result.output
    docs = sorted(folder.glob("*.docx"))
    assert len(docs) == 25
    assert {p.name for p in docs} == _expected_preview_names()
    assert all(p.stat().st_size > 1000 for p in docs)
    assert "Jokioisten kunnanhallitus päättää" in docx_text(folder / "Esitys_Jokioisten_kunta.docx")
    filled = docx_text(folder / "Järjestöyhdyshenkilön_toimenkuva_Jokioisten_kunta_täytetty.docx")
    assert "Maija Meikäläinen" in filled
    assert f"Tilannekatsaus: {SHORT_TITLE}" in docx_text(folder / "Tilannekatsaus.docx")
    assert not (sent.outputs / "preview" / "png").exists()


@pytest.mark.libreoffice
def test_docs_preview_with_libreoffice_writes_pdf_and_png_of_every_document(
    libreoffice: str, sent: Settings
) -> None:
    """With LibreOffice and pdftoppm, every preview DOCX gets a PDF and a first-page PNG."""
    result = runner.invoke(app, ["docs-preview"])
    assert result.exit_code == 0, result.output
    preview = sent.outputs / "preview"
    assert f"Asiakirjoja 25: {preview / 'docx'}" in result.output
    assert f"Esikatselukuvia 25: {preview / 'png'}" in result.output
    assert "ohitettiin" not in result.output
    stems = {p.stem for p in (preview / "docx").glob("*.docx")}
    assert {p.stem for p in (preview / "pdf").glob("*.pdf")} == stems
    assert {p.stem for p in (preview / "png").glob("*.png")} == stems
    for pdf in (preview / "pdf").glob("*.pdf"):
        assert pdf.read_bytes().startswith(b"%PDF"), pdf.name
    for png in (preview / "png").glob("*.png"):
        assert png.read_bytes().startswith(b"\x89PNG"), png.name


# --- digest -----------------------------------------------------------------------------------------

DIGEST_DAY = "2025-03-07"  # Friday of ISO week 10; the decision's event is dated 5.3.2025


def test_digest_mails_the_committee_once_per_week(
    sent: Settings, smtp_server: LocalSmtpServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """After a decision in the week of --today, `digest` mails the committee once with the change and
    the status report of that day attached; a second call that week sends nothing."""
    monkeypatch.setattr("council.store.tracking.now", lambda: datetime(2025, 3, 5, 10, 0, tzinfo=UTC))
    result = runner.invoke(
        app,
        [
            "record",
            "tammela",
            "1",
            "hyväksytty ehdotuksen mukaisesti",
            "--date",
            "3.3.2025",
            "--section",
            "20",
        ],
    )
    assert result.exit_code == 0, result.output
    before = smtp_server.messages()

    result = runner.invoke(app, ["digest", "--today", DIGEST_DAY])
    assert result.exit_code == 0, result.output
    assert "Viikkokooste lähetetty." in result.output
    new = [p for p in smtp_server.messages() if p not in before]
    assert len(new) == 1
    mail = read_eml(new[0])
    assert str(mail["To"]) == COMMITTEE
    assert str(mail["Subject"]) == f"Viikkokooste (viikko 10): {SHORT_TITLE} (Dnro FSHKY/245/00.04.01/2026)"
    text = mail.get_body(("plain",)).get_content()
    assert "muutokset 1.3.2025–7.3.2025" in text
    assert "Tammelan kunta, kohta 1: hyväksytty ehdotuksen mukaisesti 3.3.2025 § 20" in text
    [attachment] = list(mail.iter_attachments())
    assert attachment.get_filename() == "Tilannekatsaus_7_3_2025.docx"
    attached = tmp_path / "liite.docx"
    attached.write_bytes(attachment.get_content())
    report = docx_text(attached)
    assert "Tilanne 7.3.2025." in report and "hyväksytty ehdotuksen mukaisesti, 3.3.2025 § 20" in report
    kept = sent.outputs / sent.proposal_id / "viikkokooste" / "Tilannekatsaus_7_3_2025.docx"
    assert kept.read_bytes() == attached.read_bytes()

    again = runner.invoke(app, ["digest", "--today", DIGEST_DAY])
    assert again.exit_code == 0, again.output
    assert again.output.strip() == "Viikkokooste oli jo lähetetty."
    assert len([p for p in smtp_server.messages() if p not in before]) == 1


def test_digest_in_a_quiet_week_sends_nothing(sent: Settings, smtp_server: LocalSmtpServer) -> None:
    """A week without decisions or mail (the fixture's sends are today, not in 2025) sends nothing."""
    result = runner.invoke(app, ["digest", "--today", DIGEST_DAY])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "Ei muutoksia tällä viikolla: koostetta ei lähetetty."
    assert smtp_server.messages() == []


@pytest.mark.parametrize("day", ["31.2.2025", "2025-13-01", "eilen"])
def test_digest_refuses_a_bad_today(sent: Settings, smtp_server: LocalSmtpServer, day: str) -> None:
    """An impossible --today exits 2 with a Finnish message naming the option; nothing is sent."""
    result = runner.invoke(app, ["digest", "--today", day])
    assert result.exit_code == 2
    assert "Virhe: --today:" in result.output and day in result.output
    assert smtp_server.messages() == []


# --- smtp-server ------------------------------------------------------------------------------------


def _accepts(port: int) -> Callable[[], bool]:
    def ready() -> bool:
        try:
            with smtplib.SMTP("127.0.0.1", port, timeout=2) as smtp:
                return smtp.noop()[0] == 250
        except OSError:
            return False

    return ready


def test_smtp_server_stores_each_message_as_eml(
    tmp_path: Path, start: Callable[..., subprocess.Popen]
) -> None:
    """`smtp-server` listens on COUNCIL_LOCAL_SMTP_PORT, saves a received message under
    outputs/mail/ as .eml with its Finnish headers and text intact, and exits 0 on SIGINT."""
    port = free_port()
    proc = start(["smtp-server"], _subprocess_env(tmp_path, COUNCIL_LOCAL_SMTP_PORT=str(port)), tmp_path)
    _wait_for(proc, _accepts(port), "smtp-server")
    message = EmailMessage()
    message["From"] = "hyvinvointivaliokunta@forssanseutu.example"
    message["To"] = "kirjaamo@jokioinen.example"
    message["Subject"] = "Esitys: järjestöyhteistyö Jokioisilla"
    message.set_content("Hyvä vastaanottaja,\n\nliitteenä esitys päätettäväksi.\n")
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as smtp:
        refused = smtp.send_message(message)
    assert refused == {}
    folder = tmp_path / "outputs" / "mail"
    _wait_for(proc, lambda: any(folder.glob("*.eml")), "the .eml file")
    [saved] = list(folder.glob("*.eml"))
    stored = read_eml(saved)
    assert str(stored["To"]) == "kirjaamo@jokioinen.example"
    assert str(stored["Subject"]) == "Esitys: järjestöyhteistyö Jokioisilla"
    assert "liitteenä esitys päätettäväksi." in stored.get_content()
    assert not list(folder.glob("*.tmp"))
    out, err = _interrupt(proc)
    assert proc.returncode == 0, out + err
    assert f"SMTP-palvelin: 127.0.0.1:{port}, viestit kansioon {folder}" in out
    assert "Traceback" not in err
    assert not _accepts(port)()


def test_smtp_server_on_a_busy_port_exits_2_in_finnish(tmp_path: Path) -> None:
    """--port already taken: exit 2 and a Finnish message naming the port (no hang, no traceback)."""
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = subprocess.run(
            [COUNCIL, "smtp-server", "--port", str(port)],
            env=_subprocess_env(tmp_path),
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 2, result.stdout + result.stderr
    assert f"SMTP-palvelinta ei voitu käynnistää porttiin {port}" in result.stderr
    assert "Traceback" not in result.stderr
