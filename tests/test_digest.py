"""The weekly committee digest: this week's changes with the status report, once a week, never empty."""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from council.config import Settings
from council.db import make_engine
from council.decisions import record_decision
from council.digest import prepare_digest
from council.mail import SmtpMailer
from council.sending import deliver_messages
from council.smtpd import LocalSmtpServer
from models.decisions import DecisionIn, LiaisonIn
from models.enums import Outcome
from tests.helpers import docx_text, read_eml


def test_nothing_changed_sends_nothing(sent: Settings) -> None:
    """A week without decisions or mail produces no digest."""
    assert prepare_digest(sent, today=date(2027, 1, 8), actor="t") is None


def test_digest_lists_the_week_and_attaches_the_report_once(
    sent: Settings, smtp_server: LocalSmtpServer
) -> None:
    """After a decision this week the committee gets one digest with the change and the status report."""
    from council.filters import today_helsinki

    with Session(make_engine(sent.effective_database_url)) as session, session.begin():
        record_decision(
            session=session,
            proposal_id=sent.proposal_id,
            decision=DecisionIn(
                body_id="tammela",
                point=1,
                outcome=Outcome.hyvaksytty,
                meeting_date=date(2021, 3, 1),
                section=20,
                liaison=LiaisonIn(
                    name="Teija Tammi",
                    title="kulttuurituottaja",
                    email="teija@tammela.example",
                    work_time="5 % työajasta",
                ),
            ),
        )
    today = today_helsinki()
    pk = prepare_digest(sent, today=today, actor="t")
    assert pk is not None
    assert prepare_digest(sent, today=today, actor="t") is None  # one per week
    assert deliver_messages(sent, [pk], SmtpMailer(sent), actor="t").sent == [
        f"valiokunta/digest/{_round(today)}"
    ]
    [mail] = [read_eml(p) for p in smtp_server.messages()]
    assert str(mail["To"]) == "hyvinvointivaliokunta@forssanseutu.example, puheenjohtaja@forssanseutu.example"
    text = mail.get_body(("plain",)).get_content()
    assert "Tammelan kunta, kohta 1: hyväksytty ehdotuksen mukaisesti 1.3.2021 § 20" in text
    assert "Tammelan kunta: järjestöyhdyshenkilöksi nimettiin Teija Tammi" in text
    [attachment] = list(mail.iter_attachments())
    assert attachment.get_filename().startswith("Tilannekatsaus_")
    report = next((sent.outputs / sent.proposal_id / "viikkokooste").glob("*.docx"))
    assert "Teija Tammi" in docx_text(report)


def _round(day: date) -> int:
    year, week, _ = day.isocalendar()
    return year * 100 + week
