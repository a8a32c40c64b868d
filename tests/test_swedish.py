"""A body whose language is Swedish gets its documents and emails in Swedish."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from council.config import Settings, get_settings
from council.delivery.mail import SmtpMailer
from council.delivery.smtpd import LocalSmtpServer
from council.services.after_decision import after_decisions
from council.services.follow_up import run_follow_up
from council.services.send import deliver_messages, prepare_proposal_messages, sync
from council.store.decisions import record_decision
from council.store.engine import make_engine, upgrade
from models.decisions import DecisionIn, LiaisonIn
from models.enums import Outcome
from tests.helpers import docx_text, read_eml

ROSTER = """\
name: "Testi"
bodies:
  - id: narpes
    name: "Närpes stad"
    name_genitive: "Närpes stads"
    name_inessive: "i Närpes stad"
    kind: kaupunki
    deciding_body: "Närpes stadsstyrelse"
    registry_email: "registrator@narpes.example"
    language: sv
  - id: jokioinen
    name: "Jokioisten kunta"
    name_genitive: "Jokioisten kunnan"
    name_inessive: "Jokioisten kunnassa"
    kind: kunta
    deciding_body: "Jokioisten kunnanhallitus"
    registry_email: "kirjaamo@jokioinen.example"
"""


@pytest.fixture
def swedish(env: pytest.MonkeyPatch, tmp_path: Path, smtp_server: LocalSmtpServer) -> Settings:
    roster = tmp_path / "roster.yaml"
    roster.write_text(ROSTER, encoding="utf-8")
    env.setenv("COUNCIL_ROSTER_FILE", str(roster))
    env.setenv("COUNCIL_LOCAL_SMTP_PORT", str(smtp_server.port))
    settings = get_settings()
    upgrade(settings.effective_database_url)
    sync(settings, actor="t")
    pending = prepare_proposal_messages(settings, [], actor="t", on=date(2026, 5, 15))
    deliver_messages(settings, pending, SmtpMailer(settings), actor="t")
    return settings


def _mail_to(server: LocalSmtpServer, address: str):
    return [m for m in (read_eml(p) for p in server.messages()) if str(m["To"]).startswith(address)]


def test_first_send_is_swedish_for_a_swedish_body(swedish: Settings, smtp_server: LocalSmtpServer) -> None:
    """Närpes gets FÖRSLAG and a Swedish email; Jokioinen in the same run gets Finnish ones."""
    [sv] = _mail_to(smtp_server, "registrator@narpes.example")
    [fi] = _mail_to(smtp_server, "kirjaamo@jokioinen.example")
    assert sv["Content-Language"] == "sv" and fi["Content-Language"] == "fi"
    assert sv["Subject"].startswith("Förslag för behandling: Samarbetsmodell") and sv["Subject"].endswith(
        "– Närpes stadsstyrelse (Dnr FSHKY/245/00.04.01/2026)"
    )
    assert "Med vänliga hälsningar" in sv.get_body(("plain",)).get_content()
    names = [a.get_filename() for a in sv.iter_attachments()]
    assert names == [
        "Förslag_Närpes_stad.docx",
        "Arbetsbeskrivning_organisationskontaktperson_Närpes_stad.docx",
        "Metadata_Förslag_Närpes_stad.xml",
    ]
    folder = swedish.outputs / swedish.proposal_id / "narpes"
    proposal = docx_text(folder / names[0])
    assert "FÖRSLAG" in proposal and "Beslutsförslag" in proposal
    assert "Dnr FSHKY/245/00.04.01/2026" in proposal and "Svar senast" in proposal
    assert "Närpes stadsstyrelse beslutar att i Närpes stad" in proposal
    assert "Forssa regionens välfärdsutskott" in proposal
    assert "Päätösehdotus" not in proposal and "päättää" not in proposal
    duty = docx_text(folder / names[1])
    assert "ARBETSBESKRIVNING" in duty and "Syfte" in duty and "Uppgifter" in duty
    assert fi["Subject"].startswith("Esitys käsiteltäväksi:")


def test_reminder_and_duty_description_are_swedish(swedish: Settings, smtp_server: LocalSmtpServer) -> None:
    """The Swedish body's reminder, filled duty description and thank-you are in Swedish."""
    with Session(make_engine(swedish.effective_database_url)) as session, session.begin():
        record_decision(
            session=session,
            proposal_id=swedish.proposal_id,
            decision=DecisionIn(
                body_id="narpes", point=2, outcome=Outcome.poydalle, meeting_date=date(2026, 5, 25), section=7
            ),
        )
    run_follow_up(swedish, today=date(2026, 6, 5), mailer=SmtpMailer(swedish), actor="t")
    reminder = next(
        m
        for m in _mail_to(smtp_server, "registrator@narpes.example")
        if m["Subject"].startswith("Påminnelse")
    )
    text = reminder.get_body(("plain",)).get_content()
    assert "bordlagt 25.5.2026 § 7, inväntar ny behandling" in text
    assert [a.get_filename() for a in reminder.iter_attachments()] == [
        "Förslag_Närpes_stad_påminnelse_1.docx",
        "Metadata_Förslag_Närpes_stad_påminnelse_1.xml",
    ]
    assert "Bilaga 1: Förslag, påminnelseversion (endast öppna punkter) – Förslag_Närpes_stad_påminnelse_1.docx" in text
    with Session(make_engine(swedish.effective_database_url)) as session, session.begin():
        for point in (1, 2, 3, 4):
            record_decision(
                session=session,
                proposal_id=swedish.proposal_id,
                decision=DecisionIn(
                    body_id="narpes",
                    point=point,
                    outcome=Outcome.hyvaksytty,
                    meeting_date=date(2026, 6, 8),
                    section=20 + point,
                    liaison=LiaisonIn(
                        name="Anna Berg",
                        title="fritidssekreterare",
                        email="anna@narpes.example",
                        work_time="8 h/mån",
                    )
                    if point == 1
                    else None,
                ),
            )
    after_decisions(swedish, today=date(2026, 6, 9), mailer=SmtpMailer(swedish), actor="t")
    mails = _mail_to(smtp_server, "registrator@narpes.example")
    duty = next(m for m in mails if m["Subject"].startswith("Arbetsbeskrivning"))
    assert "har utsett följande organisationskontaktperson" in duty.get_body(("plain",)).get_content()
    thanks = next(m for m in mails if m["Subject"].startswith("Tack för besluten"))
    assert "godkänt enligt förslaget 8.6.2026 § 21" in thanks.get_body(("plain",)).get_content()
    assert thanks["Subject"].endswith("Närpes stad (Dnr FSHKY/245/00.04.01/2026)")
    assert (
        "Bilaga 1: Arbetsbeskrivning för organisationskontaktperson (ifylld) – "
        "Arbetsbeskrivning_organisationskontaktperson_Närpes_stad_ifylld.docx"
    ) in thanks.get_body(("plain",)).get_content()
    assert [a.get_filename() for a in thanks.iter_attachments()] == [
        "Arbetsbeskrivning_organisationskontaktperson_Närpes_stad_ifylld.docx",
        "Metadata_Arbetsbeskrivning_organisationskontaktperson_Närpes_stad_ifylld.xml",
    ]
