"""The archive package of a proposal: every file its manifest lists, with matching checksums."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import zipfile
from datetime import date
from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import select, update
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from council.cli.commands import app
from council.config import Settings, get_settings
from council.delivery.mail import SmtpMailer
from council.delivery.smtpd import LocalSmtpServer
from council.errors import UnknownProposalError
from council.rules.formatting import today_helsinki
from council.services import archive as archive_module
from council.services.archive import MANIFEST, read_manifest, verify_archive, write_archive
from council.services.bulk import read_rows
from council.services.send import deliver_messages, prepare_proposal_messages, sync
from council.store.decisions import record_decision
from council.store.engine import make_engine, upgrade
from models.decisions import DecisionIn, LiaisonIn
from models.enums import Outcome
from models.tables import Message

DAY = date(2026, 12, 1)
runner = CliRunner()


def _decide(settings: Settings) -> None:
    """Jokioinen decides points 1 (naming its liaison) and 2."""
    liaison = LiaisonIn(
        name="Maija Meikäläinen",
        title="hyvinvointikoordinaattori",
        email="maija@jokioinen.example",
        work_time="8 h/kk",
    )
    with Session(make_engine(settings.effective_database_url)) as session, session.begin():
        for point in (1, 2):
            decision = DecisionIn(
                body_id="jokioinen",
                point=point,
                outcome=Outcome.hyvaksytty,
                meeting_date=today_helsinki(),  # the day it was sent: no earlier, not in the future
                section=58 + point,
                liaison=liaison if point == 1 else None,
                recorded_by="Niina",
            )
            record_decision(session=session, proposal_id=settings.proposal_id, decision=decision)


def _send_and_decide(settings: Settings) -> Settings:
    sync(settings, actor="test")
    pending = prepare_proposal_messages(settings, [], actor="test")
    report = deliver_messages(settings, pending, SmtpMailer(settings), actor="test")
    assert len(report.sent) == 6 and not report.failed
    _decide(settings)
    return settings


@pytest.fixture
def campaign(settings: Settings, smtp_server: LocalSmtpServer) -> Settings:
    """The seed proposal really sent to its six bodies over SMTP, and two decisions recorded."""
    return _send_and_decide(settings)


@pytest.fixture
def campaign_any_db(env: pytest.MonkeyPatch, database_url: str, smtp_server: LocalSmtpServer) -> Settings:
    """Like `campaign`, on SQLite and on PostgreSQL."""
    env.setenv("COUNCIL_DATABASE_URL", database_url)
    env.setenv("COUNCIL_LOCAL_SMTP_PORT", str(smtp_server.port))
    settings = get_settings()
    upgrade(settings.effective_database_url)
    return _send_and_decide(settings)


@pytest.fixture
def closed(campaign: Settings) -> Settings:
    """`campaign`, its follow-up ended by the coordinator: only a closed proposal is archived."""
    from council.services.proposals import close_proposal

    close_proposal(campaign, campaign.proposal_id, reason="testi", actor="test")
    return campaign


def _rewrite(source: Path, target: Path, *, drop: str | None = None, change: str | None = None) -> None:
    """Copy a package entry by entry, leaving one out or changing one's content."""
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w") as new:
        for info in old.infolist():
            if info.filename == drop:
                continue
            data = old.read(info)
            new.writestr(info, data + b"x" if info.filename == change else data)


def test_package_holds_every_file_its_manifest_lists_with_matching_checksums(campaign: Settings) -> None:
    """Every manifest entry is in the ZIP with its size and SHA-256, nothing else is, and the entries
    come in a fixed order: the readme, documents, messages, decisions, events, the manifest last."""
    path = write_archive(campaign, campaign.proposal_id, on=DAY)
    assert path == campaign.archive_dir / f"arkisto-{campaign.proposal_id}-2026-12-01.zip"
    with zipfile.ZipFile(path) as zf:
        names = zf.namelist()
        manifest = json.loads(zf.read(MANIFEST))
        listed = [item["polku"] for item in manifest["tiedostot"]]
        assert names == [*listed, MANIFEST]
        for item in manifest["tiedostot"]:
            data = zf.read(item["polku"])
            assert len(data) == item["koko"]
            assert hashlib.sha256(data).hexdigest() == item["sha256"]
    assert verify_archive(path) == []
    documents = sorted(
        p.relative_to(campaign.proposal_dir(campaign.proposal_id)).as_posix()
        for p in campaign.proposal_dir(campaign.proposal_id).rglob("*")
        if p.is_file()
    )
    assert [n.removeprefix("asiakirjat/") for n in names if n.startswith("asiakirjat/")] == documents
    assert len(documents) == 18  # six bodies × proposal, duty description, JHS 143 description
    assert names[0] == "LUEMINUT.txt"
    assert names[-5:] == ["paatokset.csv", "paatokset.xlsx", "tapahtumat.csv", "tapahtumat.jsonl", MANIFEST]
    emls = [n for n in names if n.startswith("viestit/")]
    assert emls == sorted(emls) and names.index(emls[0]) > names.index(f"asiakirjat/{documents[-1]}")
    assert manifest["esitys"]["tunniste"] == campaign.proposal_id
    assert manifest["esitys"]["diaarinumero"] == "FSHKY/245/00.04.01/2026"
    assert manifest["esitys"]["otsikko"].startswith("Esitys järjestöjen")
    assert manifest["esitys"]["luotu"][-6:] in ("+02:00", "+03:00")
    assert manifest["sisalto"]["asiakirjoja"] == 18
    assert manifest["sisalto"]["viesteja"] == 6
    assert manifest["sisalto"]["paatoksia"] == 2
    assert manifest["viestit_ilman_tallennetta"] == []


def test_eml_files_are_the_bytes_the_smtp_server_received(
    campaign_any_db: Settings, smtp_server: LocalSmtpServer
) -> None:
    """Each sent message is in viestit/ exactly as the SMTP server received it, and parses, and the
    package verifies (SQLite and PostgreSQL)."""
    campaign = campaign_any_db
    path = write_archive(campaign, campaign.proposal_id, on=DAY)
    assert verify_archive(path) == []
    counts = read_manifest(path)["sisalto"]
    assert (counts["asiakirjoja"], counts["viesteja"], counts["paatoksia"]) == (18, 6, 2)
    received = {p.read_bytes() for p in smtp_server.messages()}
    with zipfile.ZipFile(path) as zf:
        emls = {n: zf.read(n) for n in zf.namelist() if n.startswith("viestit/")}
    assert sorted(emls) == [
        f"viestit/{today_helsinki().isoformat()}-{body}-proposal-0.eml"  # the day it was sent, in Helsinki
        for body in ("forssa", "fshky", "humppila", "jokioinen", "tammela", "ypaja")
    ]
    assert set(emls.values()) == received and len(emls) == 6
    for data in emls.values():
        message = BytesParser(policy=policy.default).parsebytes(data)
        assert message["Message-ID"] and message["To"]
        assert [a.get_filename().rsplit(".", 1)[1] for a in message.iter_attachments()] == [
            "docx",
            "docx",
            "xml",
        ]


def test_decisions_and_event_log_open(campaign: Settings, tmp_path: Path) -> None:
    """paatokset.csv re-reads with the import's own reader, paatokset.xlsx opens in openpyxl, and the
    event log lists the proposal's events in order, in Helsinki time, in Finnish words."""
    path = write_archive(campaign, campaign.proposal_id, on=DAY)
    with zipfile.ZipFile(path) as zf:
        zf.extract("paatokset.csv", tmp_path)
        zf.extract("paatokset.xlsx", tmp_path)
        events_csv = zf.read("tapahtumat.csv").decode("utf-8-sig")
        events_jsonl = zf.read("tapahtumat.jsonl").decode("utf-8").splitlines()
    rows = read_rows(tmp_path / "paatokset.csv")
    assert [(r["vastaanottaja"], r["kohta"]) for _, r in rows] == [("jokioinen", "1"), ("jokioinen", "2")]
    assert rows[0][1]["yhdyshenkilo_nimi"] == "Maija Meikäläinen"
    sheet = load_workbook(tmp_path / "paatokset.xlsx", read_only=True).worksheets[0]
    table = list(sheet.iter_rows(values_only=True))
    assert table[0][:3] == ("vastaanottaja", "kohta", "paatos") and len(table) == 3
    events = list(csv.DictReader(io.StringIO(events_csv), delimiter=";"))
    assert list(events[0]) == ["aika", "tapahtuma", "selite", "tekija", "vastaanottaja", "kohta", "tiedot"]
    assert [e["aika"] for e in events] == sorted(e["aika"] for e in events)
    assert all(e["aika"][-6:] in ("+02:00", "+03:00") for e in events)
    kinds = [e["tapahtuma"] for e in events]
    assert kinds.count("viesti lähetetty") == 6 and kinds.count("päätös kirjattu") == 2
    decided = next(e for e in events if e["tapahtuma"] == "päätös kirjattu")
    assert decided["vastaanottaja"] == "jokioinen" and decided["kohta"] == "1"
    assert "Maija Meikäläinen" in json.loads(decided["tiedot"])["new"]["liaison"]["name"]
    assert len(events_jsonl) == len(events) == read_manifest(path)["sisalto"]["tapahtumia"]
    assert [json.loads(line)["aika"] for line in events_jsonl] == [e["aika"] for e in events]


def test_verify_finds_a_changed_a_missing_and_an_extra_file(campaign: Settings, tmp_path: Path) -> None:
    """verify_archive names, in Finnish, an entry whose bytes changed, one left out and one not listed."""
    path = write_archive(campaign, campaign.proposal_id, on=DAY)
    with zipfile.ZipFile(path) as zf:
        eml = next(n for n in zf.namelist() if n.startswith("viestit/"))
    changed, missing, extra = tmp_path / "changed.zip", tmp_path / "missing.zip", tmp_path / "extra.zip"
    _rewrite(path, changed, change=eml)
    _rewrite(path, missing, drop="paatokset.xlsx")
    _rewrite(path, extra)
    with zipfile.ZipFile(extra, "a") as zf:
        zf.writestr("asiakirjat/lisatty.txt", "ei kuulu pakettiin")
    problems = verify_archive(changed)
    assert len(problems) == 2 and all(p.startswith(eml) for p in problems)
    assert "koko ei täsmää" in problems[0] and "SHA-256-tarkistussumma ei täsmää" in problems[1]
    assert verify_archive(missing) == ["paatokset.xlsx: tiedosto puuttuu paketista"]
    assert verify_archive(extra) == ["asiakirjat/lisatty.txt: tiedosto ei ole manifestissa"]
    _rewrite(path, tmp_path / "no-manifest.zip", drop=MANIFEST)
    assert verify_archive(tmp_path / "no-manifest.zip") == [
        "manifest.json puuttuu paketista tai siitä puuttuu tiedostoluettelo"
    ]
    _rewrite(path, tmp_path / "bad-manifest.zip", change=MANIFEST)
    assert verify_archive(tmp_path / "bad-manifest.zip")[0].startswith("manifest.json ei ole luettavissa")
    (tmp_path / "broken.zip").write_bytes(path.read_bytes()[:1000])
    assert "ei ole luettava ZIP-paketti" in verify_archive(tmp_path / "broken.zip")[0]


def test_a_message_sent_before_wire_bytes_were_kept_is_listed_not_rebuilt(campaign: Settings) -> None:
    """A sent message without stored bytes (an old row: NULL or empty) gets no .eml; the manifest names it."""
    with Session(make_engine(campaign.effective_database_url)) as session, session.begin():
        session.execute(update(Message).where(Message.body_id == "ypaja").values(wire=None))
        session.execute(update(Message).where(Message.body_id == "tammela").values(wire=b""))
        old = session.scalars(
            select(Message.message_id).where(Message.body_id.in_(["tammela", "ypaja"]))
        ).all()
    path = write_archive(campaign, campaign.proposal_id, on=DAY)
    manifest = read_manifest(path)
    assert manifest["sisalto"]["viesteja"] == 4
    assert sorted(m["message_id"] for m in manifest["viestit_ilman_tallennetta"]) == sorted(old)
    assert {m["vastaanottaja"] for m in manifest["viestit_ilman_tallennetta"]} == {"tammela", "ypaja"}
    emls = [item["polku"] for item in manifest["tiedostot"] if item["polku"].startswith("viestit/")]
    assert len(emls) == 4 and not any("ypaja" in n or "tammela" in n for n in emls)
    assert verify_archive(path) == []


def test_documents_keep_sub_folders_and_leave_out_writes_in_progress(
    campaign: Settings, tmp_path: Path
) -> None:
    """A nested document keeps its folders; a temporary file of an unfinished write and symbolic links
    (to a file or a folder outside) are not archived."""
    folder = campaign.proposal_dir(campaign.proposal_id)
    (folder / "raportit" / "2026").mkdir(parents=True)
    (folder / "raportit" / "2026" / "tilanne.html").write_text("<p>tilanne</p>", encoding="utf-8")
    (folder / "jokioinen" / ".Esitys.docx-abc123.tmp").write_bytes(b"half")
    (tmp_path / "salainen.txt").write_text("ei arkistoon", encoding="utf-8")
    (folder / "linkki.txt").symlink_to(tmp_path / "salainen.txt")
    (folder / "linkkikansio").symlink_to(tmp_path, target_is_directory=True)
    path = write_archive(campaign, campaign.proposal_id, on=DAY)
    names = zipfile.ZipFile(path).namelist()
    assert "asiakirjat/raportit/2026/tilanne.html" in names
    assert not any(n.endswith(".tmp") or "linkki" in n for n in names)


def test_unknown_proposal_is_refused(settings: Settings, tmp_path: Path) -> None:
    """An id with no proposal in the database raises UnknownProposalError and writes nothing."""
    with pytest.raises(UnknownProposalError, match="Tuntematon esitys 'ei-ole'"):
        write_archive(settings, "ei-ole", tmp_path / "arkisto")
    assert not (tmp_path / "arkisto").exists()


def test_a_failed_write_leaves_no_half_package(
    campaign: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A failure while the package is being written leaves neither a file under the final name nor a
    temporary file, and an earlier package of the same name stays as it was."""
    dest = tmp_path / "arkisto"
    earlier = write_archive(campaign, campaign.proposal_id, dest, on=DAY)
    before = earlier.read_bytes()

    def broken(*args: object, **kwargs: object) -> int:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(archive_module, "_write_events", broken)
    with pytest.raises(OSError, match="No space left"):
        write_archive(campaign, campaign.proposal_id, dest, on=DAY)
    assert earlier.read_bytes() == before
    with pytest.raises(OSError):
        write_archive(campaign, campaign.proposal_id, dest, on=date(2026, 12, 2))
    assert sorted(p.name for p in dest.iterdir()) == [earlier.name]


def test_cli_refuses_an_open_proposal_and_marks_a_closed_one_archived(campaign: Settings, tmp_path: Path) -> None:
    """An open proposal's package would miss what is still to come: refused, nothing written; once
    closed it is archived and its state says so."""
    from council.services.proposals import close_proposal, find_proposal

    result = runner.invoke(app, ["proposal", "archive", campaign.proposal_id, "--out", str(tmp_path / "a")])
    assert result.exit_code == 2 and "vielä seurannassa" in result.output and "proposal close" in result.output
    assert not (tmp_path / "a").exists()
    close_proposal(campaign, campaign.proposal_id, reason="testi", actor="test")
    result = runner.invoke(app, ["proposal", "archive", campaign.proposal_id, "--out", str(tmp_path / "a")])
    assert result.exit_code == 0, result.output
    assert find_proposal(campaign, campaign.proposal_id).state_fi == "arkistoitu"


def test_cli_writes_and_verifies_a_package(closed: Settings, tmp_path: Path) -> None:
    """`council proposal archive ID --out DIR --verify` names the file and the counts in Finnish."""
    campaign = closed
    out = tmp_path / "kirjaamolle"
    result = runner.invoke(
        app,
        ["proposal", "archive", campaign.proposal_id, "--out", str(out), "--verify", "--today", "1.12.2026"],
    )
    assert result.exit_code == 0, result.output
    package = out / f"arkisto-{campaign.proposal_id}-2026-12-01.zip"
    assert f"Arkistopaketti kirjoitettu: {package}" in result.output
    assert "Asiakirjoja 18, viestejä 6, päätöksiä 2" in result.output
    assert "tarkistussummat täsmäävät" in result.output
    assert verify_archive(package) == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["ei-ole"], "Tuntematon esitys 'ei-ole'"),
        (["{proposal}", "--out", "{file}"], "ei voi käyttää"),
    ],
    ids=["unknown-id", "out-is-a-file"],
)
def test_cli_refuses_in_finnish(closed: Settings, tmp_path: Path, args: list[str], message: str) -> None:
    """An unknown proposal id, or an --out that is a file, ends with a Finnish message and exit code 2."""
    campaign = closed
    blocker = tmp_path / "tiedosto"
    blocker.write_text("ei kansio", encoding="utf-8")
    argv = [a.format(proposal=campaign.proposal_id, file=blocker) for a in args]
    result = runner.invoke(app, ["proposal", "archive", *argv])
    assert result.exit_code == 2, result.output
    assert "Virhe:" in result.output and message in result.output
    assert "Traceback" not in result.output


def test_cli_verify_reports_problems_with_exit_code_2(
    closed: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When --verify finds a problem the command lists it in Finnish and ends with exit code 2."""
    campaign = closed
    monkeypatch.setattr(
        archive_module, "verify_archive", lambda path: ["paatokset.xlsx: tiedosto puuttuu paketista"]
    )
    result = runner.invoke(
        app, ["proposal", "archive", campaign.proposal_id, "--out", str(tmp_path), "--verify"]
    )
    assert result.exit_code == 2, result.output
    assert "on virheitä" in result.output and "paatokset.xlsx: tiedosto puuttuu paketista" in result.output
