"""Attachments every client keeps: the Finnish name for current clients (RFC 2231), a plain ASCII
name for tools that decode nothing (munpack), and PDF/A-2b copies by default where LibreOffice is
installed, with a Finnish warning and DOCX only where it is not."""

from __future__ import annotations

import logging
import subprocess
from pathlib import Path

import pytest

from council.config import Settings, get_settings
from council.delivery import pdf
from council.delivery.mail import SmtpMailer
from council.delivery.smtpd import LocalSmtpServer
from council.errors import ConfigurationError
from council.paths import ascii_filename
from council.services.send import deliver_messages, prepare_proposal_messages, sync
from tests.helpers import read_eml


def _send(settings: Settings, body_ids: list[str]) -> None:
    sync(settings, actor="test")
    pending = prepare_proposal_messages(settings, body_ids, actor="test")
    report = deliver_messages(settings, pending, SmtpMailer(settings), actor="test")
    assert report.sent and not report.failed


def _munpacked(munpack: str, eml: Path, folder: Path) -> list[str]:
    """The file names munpack writes for the message's attachments (not its .desc text parts)."""
    folder.mkdir(parents=True)
    subprocess.run([munpack, "-f", "-q", "-C", str(folder), str(eml)], check=True, capture_output=True)
    return sorted(p.name for p in folder.iterdir() if p.suffix != ".desc")


def _check_every_message(munpack: str, server: LocalSmtpServer, tmp_path: Path) -> list[list[str]]:
    """munpack restores every attachment of every message under its ASCII name with its extension,
    byte for byte; Python's parser reads the Finnish name from the same message."""
    names = []
    for index, eml in enumerate(server.messages()):
        msg = read_eml(eml)
        finnish = [a.get_filename() for a in msg.iter_attachments()]
        restored = _munpacked(munpack, eml, tmp_path / f"munpack{index}")
        assert restored == sorted(ascii_filename(n) for n in finnish), eml.name
        for part in msg.iter_attachments():
            plain = ascii_filename(part.get_filename())
            assert plain.isascii() and plain.rsplit(".", 1)[1] in {"docx", "pdf", "xml"}
            assert (tmp_path / f"munpack{index}" / plain).read_bytes() == part.get_content()
        names.append(finnish)
    return names


def test_munpack_and_python_both_read_every_attachment_name(
    settings: Settings, smtp_server: LocalSmtpServer, munpack: str, tmp_path: Path
) -> None:
    """Six messages: munpack saves each attachment as e.g. Esitys_Ypajan_kunta.docx (not part1);
    Python's email parser gives Esitys_Ypäjän_kunta.docx."""
    _send(settings, [])
    names = _check_every_message(munpack, smtp_server, tmp_path)
    assert len(names) == 6
    assert [
        "Esitys_Ypäjän_kunta.docx",
        "Järjestöyhdyshenkilön_toimenkuva_Ypäjän_kunta.docx",
        "Kuvailutiedot_Esitys_Ypäjän_kunta.xml",
    ] in names


def test_without_libreoffice_pdf_default_warns_in_finnish_and_sends_docx(
    settings: Settings,
    smtp_server: LocalSmtpServer,
    env: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """COUNCIL_ATTACH_PDF unset and no LibreOffice: DOCX only and a warning naming the package;
    COUNCIL_ATTACH_PDF=true without LibreOffice is a configuration error."""
    env.delenv("COUNCIL_ATTACH_PDF")
    env.setattr(pdf, "soffice", lambda: None)
    env.setattr(pdf, "_warned", False)
    settings = get_settings()
    assert settings.attach_pdf is None
    with caplog.at_level(logging.WARNING, logger="council.delivery.pdf"):
        _send(settings, ["humppila"])
    [mail] = [read_eml(p) for p in smtp_server.messages()]
    assert [a.get_filename().rsplit(".", 1)[1] for a in mail.iter_attachments()] == ["docx", "docx", "xml"]
    assert "LibreOffice puuttuu" in caplog.text and "libreoffice-writer-nogui" in caplog.text
    assert pdf.pdf_warning(settings) == pdf.NO_LIBREOFFICE_WARNING
    env.setenv("COUNCIL_ATTACH_PDF", "true")
    with pytest.raises(ConfigurationError, match="libreoffice-writer-nogui"):
        pdf.with_pdf_copies(get_settings(), [Path("x.docx")])


@pytest.mark.libreoffice
def test_pdfa_copies_by_default_where_libreoffice_is_installed(
    libreoffice: str,
    settings: Settings,
    smtp_server: LocalSmtpServer,
    env: pytest.MonkeyPatch,
    munpack: str,
    tmp_path: Path,
) -> None:
    """With the default setting each document goes as DOCX and PDF/A-2b (tagged), listed under one
    attachment number; munpack restores the PDFs too."""
    env.delenv("COUNCIL_ATTACH_PDF")
    settings = get_settings()
    assert pdf.pdf_warning(settings) is None
    _send(settings, ["ypaja"])
    [names] = _check_every_message(munpack, smtp_server, tmp_path)
    assert names == [
        "Esitys_Ypäjän_kunta.docx",
        "Esitys_Ypäjän_kunta.pdf",
        "Järjestöyhdyshenkilön_toimenkuva_Ypäjän_kunta.docx",
        "Järjestöyhdyshenkilön_toimenkuva_Ypäjän_kunta.pdf",
        "Kuvailutiedot_Esitys_Ypäjän_kunta.xml",
    ]
    [mail] = [read_eml(p) for p in smtp_server.messages()]
    text = mail.get_body(("plain",)).get_content()
    assert "Liite 1: Esitys – Esitys_Ypäjän_kunta.docx, Esitys_Ypäjän_kunta.pdf" in text
    folder = settings.body_dir(settings.proposal_id, "ypaja")
    for name in ("Esitys_Ypäjän_kunta.pdf", "Järjestöyhdyshenkilön_toimenkuva_Ypäjän_kunta.pdf"):
        info = subprocess.run(
            ["pdfinfo", str(folder / name)], check=True, capture_output=True, text=True
        ).stdout
        assert "Tagged:          yes" in info, name
        meta = subprocess.run(
            ["pdfinfo", "-meta", str(folder / name)], check=True, capture_output=True, text=True
        ).stdout
        assert "<pdfaid:part>2</pdfaid:part>" in meta and "<pdfaid:conformance>B</pdfaid:conformance>" in meta


def test_to_pdfa_runs_libreoffice_once_for_many_documents(env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Each LibreOffice run costs seconds to start: documents of many folders go in one run, and
    only documents with the same name need another; each PDF lands beside its document."""
    runs: list[list[str]] = []

    def fake_run(args: list[str], **_: object) -> subprocess.CompletedProcess:
        outdir = Path(args[args.index("--outdir") + 1])
        outdir.mkdir(parents=True)
        docs = [a for a in args if a.endswith(".docx")]
        for doc in docs:
            (outdir / (Path(doc).stem + ".pdf")).write_bytes(b"%PDF-1.6 " + doc.encode())
        runs.append(docs)
        return subprocess.CompletedProcess(args, 0, "", "")

    env.setattr(pdf, "soffice", lambda: "/usr/bin/soffice")
    env.setattr(pdf.subprocess, "run", fake_run)
    documents = [
        tmp_path / "a" / "Esitys.docx",
        tmp_path / "a" / "Toimenkuva.docx",
        tmp_path / "b" / "Esitys.docx",
    ]
    for doc in documents:
        doc.parent.mkdir(exist_ok=True)
        doc.write_bytes(b"docx")
    made = pdf.to_pdfa(documents)
    assert made == [d.with_suffix(".pdf") for d in documents]
    assert [len(r) for r in runs] == [2, 1]  # b/Esitys.docx would overwrite a/Esitys.pdf in one run
    assert all(p.read_bytes().endswith(str(d).encode()) for p, d in zip(made, documents, strict=True))


@pytest.mark.libreoffice
def test_a_batch_of_bodies_is_converted_in_one_libreoffice_run(
    libreoffice: str, settings: Settings, smtp_server: LocalSmtpServer, env: pytest.MonkeyPatch
) -> None:
    """Three bodies' six documents: one LibreOffice run, and each message carries its own two PDFs."""
    env.delenv("COUNCIL_ATTACH_PDF")
    real_run = subprocess.run
    runs = []

    def counting_run(args, **kwargs):  # noqa: ANN001, ANN202
        runs.append(args)
        return real_run(args, **kwargs)

    env.setattr(pdf.subprocess, "run", counting_run)
    _send(get_settings(), ["forssa", "humppila", "tammela"])
    assert len(runs) == 1
    for mail in (read_eml(p) for p in smtp_server.messages()):
        pdfs = [a.get_filename() for a in mail.iter_attachments() if a.get_filename().endswith(".pdf")]
        town = str(mail["To"]).split("@")[1].split(".")[0]
        assert len(pdfs) == 2 and all(town[:4].lower() in ascii_filename(n).lower() for n in pdfs), pdfs


@pytest.mark.libreoffice
def test_reminders_of_a_round_are_converted_in_one_libreoffice_run(
    libreoffice: str, settings: Settings, smtp_server: LocalSmtpServer, env: pytest.MonkeyPatch
) -> None:
    """A follow-up round's reminder documents get their PDF/A copies in one run, each its own."""
    from datetime import date

    from council.services.follow_up import run_follow_up

    sync(settings, actor="test")
    pending = prepare_proposal_messages(settings, ["forssa", "ypaja"], actor="test", on=date(2026, 5, 15))
    deliver_messages(settings, pending, SmtpMailer(settings), actor="test")
    env.delenv("COUNCIL_ATTACH_PDF")
    real_run = subprocess.run
    runs = []

    def counting_run(args, **kwargs):  # noqa: ANN001, ANN202
        runs.append(args)
        return real_run(args, **kwargs)

    env.setattr(pdf.subprocess, "run", counting_run)
    report = run_follow_up(get_settings(), today=date(2026, 6, 5), mailer=SmtpMailer(settings), actor="test")
    assert sorted(report.delivered) == ["forssa/reminder/1", "ypaja/reminder/1"]
    assert len(runs) == 1
    reminders = [m for m in (read_eml(p) for p in smtp_server.messages()) if "Muistutus" in m["Subject"]]
    assert sorted(
        a.get_filename() for m in reminders for a in m.iter_attachments() if a.get_filename().endswith(".pdf")
    ) == [
        "Esitys_Forssan_kaupunki_muistutus_1.pdf",
        "Esitys_Ypäjän_kunta_muistutus_1.pdf",
    ]
