"""Replies saved from Outlook as .msg read exactly as the same reply saved as .eml: case number,
attachments, Finnish letters; a broken file is a Finnish message naming it, and the rest of the
folder is still read. The .msg files are written by tests/msg_writer.py the way Outlook lays them out."""

from __future__ import annotations

import io
from email.message import EmailMessage
from pathlib import Path

import olefile
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from council.cli.commands import app
from council.config import Settings
from council.delivery.msg import UnreadableMessageError, read_msg
from council.delivery.smtpd import LocalSmtpServer
from council.services.replies import case_number, read_reply
from council.store.engine import make_engine
from models.tables import Message, Recipient
from tests.msg_writer import Attachment, outlook_msg

runner = CliRunner()
SENDER = "asiakirjat@jokioinen.example"
PDF = b"%PDF-1.4\n" + bytes(range(256)) * 40 + b"\n%%EOF\n"  # > 4096 bytes: regular sectors
DOCX = b"PK\x03\x04" + b"word/document.xml" + bytes(300)  # < 4096 bytes: the mini stream


def _ours(settings: Settings, body_id: str) -> str:
    with Session(make_engine(settings.effective_database_url)) as session:
        found = session.scalar(select(Message.message_id).where(Message.body_id == body_id))
    assert found
    return found


def _eml(path: Path, *, subject: str, body: str, in_reply_to: str) -> Path:
    message = EmailMessage()
    message["From"] = f"Jokioisten kirjaamo <{SENDER}>"
    message["To"] = "hyvinvointivaliokunta@forssanseutu.example"
    message["Subject"] = subject
    message["Message-ID"] = "<kuittaus-1@jokioinen.example>"
    message["In-Reply-To"] = in_reply_to
    message.set_content(body)
    path.write_bytes(message.as_bytes())
    return path


def test_a_msg_acknowledgement_gives_the_case_number_like_the_same_eml(
    settings: Settings, smtp_server: LocalSmtpServer, tmp_path: Path
) -> None:
    """An Outlook acknowledgement answering our message: matched by In-Reply-To, its case number stored."""
    assert runner.invoke(app, ["send", "--today", "1.3.2021"]).exit_code == 0
    ours = _ours(settings, "jokioinen")
    subject, body = "Vastaanottokuittaus", "Asia on kirjattu.\r\nAsianumero: JOK/45/00.01.02/2026\r\n"
    folder = tmp_path / "saapuneet"
    folder.mkdir()
    msg = folder / "kuittaus.msg"
    msg.write_bytes(
        outlook_msg(
            subject=subject,
            body=body,
            sender=SENDER,
            sender_name="Jokioisten kirjaamo",
            message_id="<kuittaus-1@jokioinen.example>",
            in_reply_to=ours,
        )
    )
    eml = _eml(tmp_path / "kuittaus.eml", subject=subject, body=body.replace("\r\n", "\n"), in_reply_to=ours)
    as_msg, as_eml = read_reply(msg), read_reply(eml)
    assert (as_msg.message_id, as_msg.sender, as_msg.subject, as_msg.refers_to) == (
        as_eml.message_id,
        as_eml.sender,
        as_eml.subject,
        as_eml.refers_to,
    )
    assert as_msg.text.strip() == as_eml.text.strip()

    result = runner.invoke(app, ["replies", str(folder)])
    assert result.exit_code == 0, result.output
    assert "Jokioisten kunta: asianumero JOK/45/00.01.02/2026" in result.output
    with Session(make_engine(settings.effective_database_url)) as session:
        stored = session.scalar(select(Recipient.case_number).where(Recipient.body_id == "jokioinen"))
    assert stored == "JOK/45/00.01.02/2026"
    again = runner.invoke(app, ["replies", str(folder)])
    assert "Luettu 0 uutta vastausta (1 luettu jo aiemmin)" in again.output, again.output


def test_the_original_headers_outlook_kept_are_preferred(tmp_path: Path) -> None:
    """PidTagTransportMessageHeaders carries the reply's own headers: those, not the properties', are used."""
    headers = (
        "Received: from mx.jokioinen.example by mx.forssanseutu.example; Mon, 2 Mar 2026 11:30:00 +0200\r\n"
        "From: =?utf-8?q?Jokioisten_kunnan_kirjaamo?= <kirjaamo@jokioinen.example>\r\n"
        "Subject: Vs: Esitys\r\n"
        "Message-ID: <alkuperainen@jokioinen.example>\r\n"
        "In-Reply-To: <meidan-1@forssanseutu.example>\r\n"
        "References: <meidan-0@forssanseutu.example>\r\n <meidan-1@forssanseutu.example>\r\n"
        "Date: Mon, 2 Mar 2026 11:29:00 +0200\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n\r\n"
    )
    path = tmp_path / "vastaus.msg"
    path.write_bytes(
        outlook_msg(
            subject="Vs: Esitys",
            body="Kiitos.",
            sender="/O=EXCHANGELABS/OU=EXCHANGE ADMINISTRATIVE GROUP/CN=RECIPIENTS/CN=KIRJAAMO",
            transport_headers=headers,
        )
    )
    message = read_msg(path)
    assert message["From"].addresses[0].addr_spec == "kirjaamo@jokioinen.example"
    assert message["Message-ID"] == "<alkuperainen@jokioinen.example>"
    assert read_reply(path).refers_to == (
        "<meidan-1@forssanseutu.example>",
        "<meidan-0@forssanseutu.example>",
        "<meidan-1@forssanseutu.example>",
    )
    assert "Received" not in message and message.get_content_type() == "text/plain"


def test_a_minutes_extract_attachment_is_exposed_with_its_name_and_bytes(tmp_path: Path) -> None:
    """A PDF (regular sectors) and a DOCX (mini stream) attached in Outlook come out as email attachments."""
    path = tmp_path / "pöytäkirjanote.msg"
    path.write_bytes(
        outlook_msg(
            subject="Pöytäkirjanote § 45",
            body="Liitteenä pöytäkirjanote.",
            sender=SENDER,
            html="<p>Liitteen&auml; p&ouml;yt&auml;kirjanote.</p>",
            attachments=(
                Attachment("Pöytäkirjanote_kunnanhallitus_§45.pdf", PDF, "application/pdf"),
                Attachment(
                    "Päätös.docx",
                    DOCX,
                    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                ),
            ),
        )
    )
    with olefile.OleFileIO(io.BytesIO(path.read_bytes()), raise_defects=olefile.DEFECT_INCORRECT) as ole:
        assert ole.exists("__attach_version1.0_#00000001/__substg1.0_37010102")  # a well-formed file
    message = read_msg(path)
    found = [(part.get_filename(), part.get_content_type(), part.get_content()) for part in message.iter_attachments()]
    assert found == [
        ("Pöytäkirjanote_kunnanhallitus_§45.pdf", "application/pdf", PDF),
        (
            "Päätös.docx",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            DOCX,
        ),
    ]
    assert message.get_body(("plain",)).get_content().strip() == "Liitteenä pöytäkirjanote."
    assert "p&ouml;yt&auml;kirjanote" in message.get_body(("html",)).get_content()


@pytest.mark.parametrize("unicode", [True, False], ids=["utf-16-properties", "8-bit-cp1252-properties"])
def test_finnish_letters_and_the_euro_sign_survive(tmp_path: Path, unicode: bool) -> None:
    """Subject, body and sender name with ä, ö, å and € read the same from Unicode and 8-bit properties."""
    path = tmp_path / "kuittaus.msg"
    path.write_bytes(
        outlook_msg(
            subject="Kuittaus: Yhdistysavustus 500 € – Ypäjä, Åland",
            body="Hyvä vastaanottaja,\r\nasia käsitellään. Dnro YPÄ/12/2026\r\nÖljyä ja äänestys: 1 200 €\r\n",
            sender="kirjaamo@ypaja.example",
            sender_name="Ypäjän kunnan kirjaamo",
            unicode=unicode,
        )
    )
    reply = read_reply(path)
    assert reply.subject == "Kuittaus: Yhdistysavustus 500 € – Ypäjä, Åland" if unicode else "€" in reply.subject
    assert "Öljyä ja äänestys: 1 200 €" in reply.text and "YPÄ/12/2026" in reply.text
    assert reply.sender == "kirjaamo@ypaja.example"
    assert read_msg(path)["From"].addresses[0].display_name == "Ypäjän kunnan kirjaamo"


def _not_a_message(tmp_path: Path) -> bytes:
    from tests.msg_writer import compound_file

    return compound_file({"WordDocument": b"\0" * 100})


BROKEN = {
    "truncated": lambda _: outlook_msg(subject="x", body="y" * 6000, sender=SENDER)[:1800],
    "not-ole": lambda _: b"From: a@b.example\r\nSubject: tallennettu vaaralla nimella\r\n\r\nx",
    "empty": lambda _: b"",
    "ole-but-not-a-message": _not_a_message,
}


@pytest.mark.parametrize("make", BROKEN.values(), ids=BROKEN.keys())
def test_a_broken_msg_is_a_finnish_message_naming_it(tmp_path: Path, make) -> None:  # noqa: ANN001
    """A damaged .msg raises our error naming the file, never a library traceback."""
    path = tmp_path / "rikki.msg"
    path.write_bytes(make(tmp_path))
    with pytest.raises(UnreadableMessageError, match=r"^rikki\.msg: .*(msg|viestiä)"):
        read_reply(path)


def test_a_broken_file_does_not_stop_the_rest_of_the_folder(
    settings: Settings, smtp_server: LocalSmtpServer, tmp_path: Path
) -> None:
    """A truncated .msg and an .eml in an unknown charset are listed; the good replies are still read."""
    assert runner.invoke(app, ["send", "--today", "1.3.2021"]).exit_code == 0
    folder = tmp_path / "saapuneet"
    folder.mkdir()
    (folder / "a-rikki.msg").write_bytes(outlook_msg(subject="x", body="y" * 6000, sender=SENDER)[:1800])
    (folder / "b-outo.eml").write_bytes(
        b"From: kirjaamo@tammela.example\r\nSubject: Dnro TAM 1/2026\r\n"
        b"Content-Type: text/plain; charset=x-tuntematon\r\n\r\nx\r\n"
    )
    (folder / "c-kuittaus.msg").write_bytes(
        outlook_msg(
            subject="Kuittaus",
            body="Asianumero: JOK/45/2026",
            sender=SENDER,
            message_id="<k@jokioinen.example>",
            in_reply_to=_ours(settings, "jokioinen"),
        )
    )
    _eml(folder / "d-kuittaus.eml", subject="Vs: esitys (Dnro HUM/7/2026)", body="Kiitos.", in_reply_to=_ours(settings, "humppila"))
    result = runner.invoke(app, ["replies", str(folder)])
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    assert "Tunnistamaton: a-rikki.msg: .msg-tiedostoa ei voi lukea" in result.output
    assert "Tunnistamaton: b-outo.eml: viestiä ei voi lukea" in result.output
    assert "Jokioisten kunta: asianumero JOK/45/2026" in result.output
    assert "Humppilan kunta: asianumero HUM/7/2026" in result.output


def test_an_html_only_msg_is_read_from_its_html(tmp_path: Path) -> None:
    """A message Outlook kept only as HTML: the case number is found in its text, tags left out."""
    path = tmp_path / "html.msg"
    path.write_bytes(
        outlook_msg(
            subject="Kuittaus",
            body=None,
            sender=SENDER,
            html="<html><body><p>Asia on kirjattu.</p><p><b>Dnro</b> JOK/46/2026</p></body></html>",
        )
    )
    reply = read_reply(path)
    assert "<p>" not in reply.text and "Asia on kirjattu." in reply.text
    assert case_number(reply) == "JOK/46/2026"


def test_the_written_fixture_is_what_file_calls_an_outlook_message(tmp_path: Path) -> None:
    """The test writer's output is recognised by libmagic as Outlook's own format (CDFV2, Outlook Message)."""
    import shutil
    import subprocess

    if shutil.which("file") is None:
        pytest.skip("file(1) puuttuu")
    path = tmp_path / "kuittaus.msg"
    path.write_bytes(outlook_msg(subject="x", body="y", sender=SENDER, attachments=(Attachment("a.pdf", PDF),)))
    said = subprocess.run(["file", "-b", str(path)], capture_output=True, text=True, check=True).stdout
    assert "CDFV2" in said and "Outlook" in said, said
