"""What a registry office (kirjaamo) registers a document by: the committee's Dnro, the body's own
case number as "Viite", the reply-by date and the contact person in the document header and the
email, numbered attachments, and a JHS 143 description attached to each message."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime

from sqlalchemy.orm import Session

from council.config import Settings
from council.delivery.mail import SmtpMailer
from council.delivery.smtpd import LocalSmtpServer
from council.services.follow_up import run_follow_up
from council.services.send import deliver_messages, prepare_proposal_messages, sync
from council.store.engine import make_engine
from models.tables import Recipient
from tests.helpers import docx_text, read_eml

DNRO = "FSHKY/245/00.04.01/2026"  # the seed proposal's diary_number
SENT = date(2026, 5, 15)
FIRST_REMINDER = date(2026, 6, 5)  # 21 days later, a working day
DC = "{http://purl.org/dc/elements/1.1/}"


def _send(settings: Settings, body_ids: list[str]) -> None:
    sync(settings, actor="test")
    pending = prepare_proposal_messages(settings, body_ids, actor="test", on=SENT)
    assert deliver_messages(settings, pending, SmtpMailer(settings), actor="test").sent


def _mails(server: LocalSmtpServer, to: str):
    return [m for m in (read_eml(p) for p in server.messages()) if str(m["To"]).startswith(to)]


def test_first_send_header_and_metadata_file(settings: Settings, smtp_server: LocalSmtpServer) -> None:
    """Both documents' first page header carries the Dnro, the reply-by date (sending + 90 days) and
    the contact person; the attached XML gives the JHS 143 fields of both documents."""
    _send(settings, ["tammela"])
    [mail] = _mails(smtp_server, "kirjaamo@tammela.example")
    folder = settings.body_dir(settings.proposal_id, "tammela")
    for name in ("Esitys_Tammelan_kunta.docx", "Järjestöyhdyshenkilön_toimenkuva_Tammelan_kunta.docx"):
        text = docx_text(folder / name)
        assert f"Dnro {DNRO}" in text, name
        assert "Vastaus viimeistään 13.8.2026" in text, name
        assert "Yhteyshenkilö: Järjestökoordinaattori Niina Salo-Lehtinen" in text, name
        assert "Viite" not in text, name  # no case number of theirs is known yet
    body = mail.get_body(("plain",)).get_content()
    assert "Vastausta pyydetään viimeistään: 13.8.2026" in body
    [xml_part] = [a for a in mail.iter_attachments() if a.get_filename().endswith(".xml")]
    root = ET.fromstring(xml_part.get_content())
    assert root.tag == "kuvailutiedot" and root.get("standardi") == "JHS 143"
    docs = root.findall("asiakirja")
    assert len(docs) == 2
    for doc in docs:
        fields = {child.tag.removeprefix(DC): child.text for child in doc if child.tag.startswith(DC)}
        assert {"title", "creator", "date", "identifier", "language", "type"} <= set(fields)
        assert fields["identifier"] == DNRO and fields["date"] == "2026-05-15" and fields["language"] == "fi"
        assert fields["creator"] == "Forssan seudun hyvinvointivaliokunta"
        assert "Tammelan kunta" in fields["title"]
    assert [d.find(f"{DC}type").text for d in docs] == ["esitys", "toimenkuva"]
    # The duty description is an annex of the proposal; no case number of theirs is known yet.
    assert docs[0].find(f"{DC}relation") is None
    assert docs[1].find(f"{DC}relation").text.startswith("Liite asiakirjaan Esitys järjestöjen")
    assert [f.get("nimi") for f in docs[0].findall("tiedosto")] == ["Esitys_Tammelan_kunta.docx"]


def test_reminder_quotes_the_bodys_case_number_as_viite(
    settings: Settings, smtp_server: LocalSmtpServer
) -> None:
    """Once their registry's case number is known, the reminder's subject, text, document header and
    description quote it as "Viite"; the reply-by date stays the first send's deadline."""
    _send(settings, ["jokioinen"])
    with Session(make_engine(settings.effective_database_url)) as session, session.begin():
        session.merge(  # the recipient's row exists (every recipient has one): give it the number
            Recipient(
                proposal_id=settings.proposal_id,
                body_id="jokioinen",
                case_number="JOK/45/2026",
                updated_at=datetime.now(UTC),
            )
        )
    run_follow_up(settings, today=FIRST_REMINDER, mailer=SmtpMailer(settings), actor="test")
    [reminder] = [m for m in _mails(smtp_server, "kirjaamo@jokioinen.example") if "Muistutus" in m["Subject"]]
    assert reminder["Subject"].endswith(f"(Dnro {DNRO}, viite JOK/45/2026)")
    text = reminder.get_body(("plain",)).get_content()
    assert "Viite: JOK/45/2026" in text and "Vastausta pyydetään viimeistään: 13.8.2026" in text
    assert "Liite 1: Esitys, muistutusversio (vain avoimet kohdat) – Esitys_Jokioisten_kunta_muistutus_1.docx" in text
    folder = settings.body_dir(settings.proposal_id, "jokioinen")
    header = docx_text(folder / "Esitys_Jokioisten_kunta_muistutus_1.docx")
    assert "Viite JOK/45/2026" in header and "Vastaus viimeistään 13.8.2026" in header
    [xml_part] = [a for a in reminder.iter_attachments() if a.get_filename().endswith(".xml")]
    root = ET.fromstring(xml_part.get_content())
    assert [r.text for r in root.iter(f"{DC}relation")] == ["Viite JOK/45/2026"]


def test_first_send_quotes_a_case_number_known_before_sending(
    settings: Settings, smtp_server: LocalSmtpServer
) -> None:
    """A campaign taken over mid-way: their case number is known before our first message, so the
    first send already quotes it (subject, text, both documents' first page)."""
    sync(settings, actor="test")
    with Session(make_engine(settings.effective_database_url)) as session, session.begin():
        session.merge(  # the recipient's row exists (every recipient has one): give it the number
            Recipient(
                proposal_id=settings.proposal_id,
                body_id="humppila",
                case_number="HUM/7/2026",
                updated_at=datetime.now(UTC),
            )
        )
    _send(settings, ["humppila"])
    [mail] = _mails(smtp_server, "kirjaamo@humppila.example")
    assert mail["Subject"].endswith(f"(Dnro {DNRO}, viite HUM/7/2026)")
    assert "Viite: HUM/7/2026" in mail.get_body(("plain",)).get_content()
    folder = settings.body_dir(settings.proposal_id, "humppila")
    for name in ("Esitys_Humppilan_kunta.docx", "Järjestöyhdyshenkilön_toimenkuva_Humppilan_kunta.docx"):
        assert "Viite HUM/7/2026" in docx_text(folder / name), name
