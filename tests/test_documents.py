"""Documents after the first send: the filled duty description (emailed once), the committee's
status report and PDF/A copies."""

from __future__ import annotations

import shutil
from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from council.config import Settings
from council.delivery.mail import SmtpMailer
from council.delivery.pdf import to_pdfa
from council.delivery.smtpd import LocalSmtpServer
from council.errors import ConfigurationError
from council.services.after_decision import after_decisions
from council.services.committee import status_report_context, write_status_report
from council.store.decisions import record_decision
from council.store.engine import make_engine
from models.decisions import DecisionIn, LiaisonIn
from models.enums import Outcome
from models.tables import Decision, Message
from tests.helpers import delivered_proposal, docx_text, read_eml

LIAISON = LiaisonIn(
    name="Maija Meikäläinen",
    title="hyvinvointikoordinaattori",
    email="maija@jokioinen.example",
    work_time="8 h/kk",
)


def _decide(settings: Settings, point: int, body: str = "jokioinen", **extra: object) -> None:
    with Session(make_engine(settings.effective_database_url)) as session, session.begin():
        record_decision(
            session=session,
            proposal_id=settings.proposal_id,
            decision=DecisionIn(
                body_id=body,
                point=point,
                outcome=Outcome.hyvaksytty,
                meeting_date=date(2021, 3, 15),
                section=58 + point,
                **extra,
            ),
        )


def test_liaison_named_sends_the_filled_duty_description_once(
    sent: Settings, smtp_server: LocalSmtpServer
) -> None:
    """Point 1 with a liaison: the body and the liaison get the filled duty description, once."""
    _decide(sent, 1, liaison=LIAISON, diary_number="JOK/12/2021")
    first = after_decisions(sent, today=date(2026, 11, 28), mailer=SmtpMailer(sent), actor="t")
    again = after_decisions(sent, today=date(2026, 11, 28), mailer=SmtpMailer(sent), actor="t")
    assert first.sent == ["jokioinen/duty_description/0"] and again.sent == []
    [mail] = [read_eml(p) for p in smtp_server.messages()]
    assert str(mail["To"]) == "kirjaamo@jokioinen.example, maija@jokioinen.example"
    assert "Maija Meikäläinen" in mail["Subject"]
    attachment, metadata = list(mail.iter_attachments())
    assert attachment.get_filename() == "Järjestöyhdyshenkilön_toimenkuva_Jokioisten_kunta_täytetty.docx"
    assert metadata.get_filename() == "Kuvailutiedot_Järjestöyhdyshenkilön_toimenkuva_Jokioisten_kunta_täytetty.xml"
    # The committee's Dnro in the subject; the Dnro the body filed its decision under is their "Viite".
    assert mail["Subject"].endswith("(Dnro FSHKY/245/00.04.01/2026, viite JOK/12/2021)")
    path = sent.outputs / sent.proposal_id / "jokioinen" / attachment.get_filename()
    text = docx_text(path)
    assert "Maija Meikäläinen" in text and "8 h/kk" in text
    assert "Jokioisten kunnanhallitus 15.3.2021 § 59" in text
    assert "Dnro FSHKY/245/00.04.01/2026" in text and "Viite JOK/12/2021" in text and "______" not in text
    assert first.dashboard and first.dashboard[0].is_file()


def test_last_point_decided_sends_one_thank_you_with_the_duty_description(
    sent: Settings, smtp_server: LocalSmtpServer
) -> None:
    """When all four points are decided the body is thanked once, with its duty description attached."""
    _decide(sent, 1, liaison=LIAISON)
    for point in (2, 3, 4):
        _decide(sent, point)
    report = after_decisions(sent, today=date(2026, 11, 28), mailer=SmtpMailer(sent), actor="t")
    assert sorted(report.sent) == ["jokioinen/confirmation/0", "jokioinen/duty_description/0"]
    thanks = next(read_eml(p) for p in smtp_server.messages() if read_eml(p)["Subject"].startswith("Kiitos"))
    body = thanks.get_body(("plain",)).get_content()
    assert "4. Järjestötietous: hyväksytty ehdotuksen mukaisesti 15.3.2021 § 62" in body
    assert "Järjestöyhdyshenkilö: Maija Meikäläinen" in body
    assert [a.get_filename() for a in thanks.iter_attachments()] == [
        "Järjestöyhdyshenkilön_toimenkuva_Jokioisten_kunta_täytetty.docx",
        "Kuvailutiedot_Järjestöyhdyshenkilön_toimenkuva_Jokioisten_kunta_täytetty.xml",
    ]
    assert thanks["Subject"].endswith("(Dnro FSHKY/245/00.04.01/2026)")
    assert "Liite 1: Järjestöyhdyshenkilön toimenkuva (täytetty) – " in body
    assert after_decisions(sent, today=date(2026, 11, 28), mailer=SmtpMailer(sent), actor="t").sent == []


def test_status_report_has_matrix_liaisons_overdue_and_reminders(sent: Settings) -> None:
    """The tilannekatsaus shows progress per point, each cell, the liaison, and who is overdue."""
    _decide(sent, 1, liaison=LIAISON)
    for body in ("forssa", "ypaja"):
        delivered_proposal(sent, body, logical_date=date(2026, 5, 1))
    ctx = status_report_context(sent, today=date(2026, 11, 28))
    assert ctx.points[0].decided == 1 and ctx.points[0].total == 6 and ctx.points[0].percent == 16
    assert len(ctx.rows) == 24
    assert ctx.liaisons[0].person.startswith("Maija Meikäläinen")
    assert [o.split(":")[0] for o in ctx.overdue] == ["Forssan kaupunki", "Ypäjän kunta"]
    assert "avoimet kohdat 1, 2, 3, 4" in ctx.overdue[0]
    path = write_status_report(sent, today=date(2026, 11, 28))
    text = docx_text(path)
    assert "TILANNEKATSAUS" in text and "28.11.2026" in text
    assert "Jokioisten kunta" in text and "hyväksytty ehdotuksen mukaisesti, 15.3.2021 § 59" in text
    assert "Maija Meikäläinen" in text
    assert "{{" not in text and "{%" not in text


@pytest.mark.libreoffice
def test_pdfa_copy_declares_pdfa(libreoffice: str, sent: Settings, tmp_path) -> None:
    """LibreOffice writes a PDF/A-2b copy (its XMP metadata names part 2)."""
    path = write_status_report(sent, today=date(2026, 11, 28), folder=tmp_path)
    [pdf] = to_pdfa([path])
    data = pdf.read_bytes()
    assert (
        data.startswith(b"%PDF") and b"pdfaid:part" in data and b"2" in data.split(b"pdfaid:part", 1)[1][:10]
    )


def test_pdfa_without_libreoffice_says_what_to_install(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    """Without LibreOffice the error names the package to install and the setting to turn it off."""
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(ConfigurationError, match="libreoffice-writer-nogui"):
        to_pdfa([tmp_path / "x.docx"])


def test_outbox_has_one_duty_description_per_body(sent: Settings, smtp_server: LocalSmtpServer) -> None:
    """A second recording run does not queue a second duty description."""
    _decide(sent, 1, liaison=LIAISON)
    after_decisions(sent, today=date(2026, 11, 28), mailer=SmtpMailer(sent), actor="t")
    after_decisions(sent, today=date(2026, 11, 29), mailer=SmtpMailer(sent), actor="t")
    with Session(make_engine(sent.effective_database_url)) as session:
        kinds = session.scalars(select(Message.kind).where(Message.body_id == "jokioinen")).all()
    assert kinds.count("duty_description") == 1


def test_a_new_liaison_gets_a_new_duty_description_once(sent: Settings, smtp_server: LocalSmtpServer) -> None:
    """Correcting point 1 to another person sends that person's duty description; keeping the person sends nothing."""
    _decide(sent, 1, liaison=LIAISON)
    after_decisions(sent, today=date(2026, 11, 28), mailer=SmtpMailer(sent), actor="t")
    with Session(make_engine(sent.effective_database_url)) as session:
        version = session.scalars(
            select(Decision.revision).where(Decision.body_id == "jokioinen", Decision.point_number == 1)
        ).one()
    other = LiaisonIn(
        name="Pekka Virtanen",
        title="vapaa-aikasihteeri",
        email="pekka@jokioinen.example",
        work_time="10 % työajasta",
    )
    _decide(sent, 1, liaison=other, expected_version=version)
    second = after_decisions(sent, today=date(2026, 11, 29), mailer=SmtpMailer(sent), actor="t")
    assert second.sent == ["jokioinen/duty_description/1"]
    with Session(make_engine(sent.effective_database_url)) as session:
        version = session.scalars(
            select(Decision.revision).where(Decision.body_id == "jokioinen", Decision.point_number == 1)
        ).one()
    _decide(sent, 1, expected_version=version, diary_number="JOK/99/2021")  # same person, other details
    assert after_decisions(sent, today=date(2026, 11, 30), mailer=SmtpMailer(sent), actor="t").sent == []
    mails = [read_eml(p) for p in smtp_server.messages()]
    assert [str(m["To"]) for m in mails] == [
        "kirjaamo@jokioinen.example, maija@jokioinen.example",
        "kirjaamo@jokioinen.example, pekka@jokioinen.example",
    ]
    assert "Pekka Virtanen" in mails[1].get_body(("plain",)).get_content()
