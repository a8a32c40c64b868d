"""The weekly committee digest: this week's changes with the status report, once a week, never empty."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from council.config import Settings, get_settings
from council.delivery.mail import SmtpMailer
from council.delivery.smtpd import LocalSmtpServer
from council.rules.formatting import HELSINKI
from council.services.digest import prepare_digest
from council.services.send import deliver_messages
from council.store.decisions import record_decision
from council.store.engine import make_engine
from models.decisions import DecisionIn, LiaisonIn
from models.enums import EventKind, Outcome
from models.tables import Event, Message
from tests.helpers import docx_text, read_eml


def _record_tammela(settings: Settings, *, occurred_at: datetime) -> None:
    """Tammela's point-1 decision with its liaison, as if recorded at ``occurred_at``."""
    with Session(make_engine(settings.effective_database_url)) as session, session.begin():
        record_decision(
            session=session,
            proposal_id=settings.proposal_id,
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
        session.execute(
            update(Event)
            .where(Event.kind == EventKind.decision_recorded.value)
            .values(occurred_at=occurred_at)
        )


def test_a_week_without_changes_sends_nothing(sent: Settings) -> None:
    """A decision on Wednesday 18.11.2026 is in that week's digest (Fri 20.11.) but not in the next one."""
    _record_tammela(sent, occurred_at=datetime(2026, 11, 18, 10, 0, tzinfo=HELSINKI))
    assert prepare_digest(sent, today=date(2026, 11, 27), actor="t").state == "no_changes"
    assert prepare_digest(sent, today=date(2026, 11, 20), actor="t").state == "queued"


def test_the_week_ends_at_midnight_helsinki_time(sent: Settings) -> None:
    """00.30 on Saturday 21.11. in Helsinki (22.30 UTC on Friday) belongs to the week ending 27.11."""
    _record_tammela(sent, occurred_at=datetime(2026, 11, 20, 22, 30, tzinfo=UTC))
    assert prepare_digest(sent, today=date(2026, 11, 20), actor="t").state == "no_changes"
    assert prepare_digest(sent, today=date(2026, 11, 27), actor="t").state == "queued"


def test_digest_lists_the_week_and_attaches_the_report_once(
    sent: Settings, smtp_server: LocalSmtpServer
) -> None:
    """After a decision this week the committee gets one digest with the change and the status report."""
    _record_tammela(sent, occurred_at=datetime(2026, 11, 25, 9, 0, tzinfo=HELSINKI))
    today = date(2026, 11, 27)  # Friday of ISO week 48
    plan = prepare_digest(sent, today=today, actor="t")
    assert plan.state == "queued" and plan.message_id is not None
    # one per week: a second preparation finds the same row instead of queueing another
    assert prepare_digest(sent, today=today, actor="t") == plan
    assert deliver_messages(sent, [plan.message_id], SmtpMailer(sent), actor="t").sent == [
        "valiokunta/digest/202648"
    ]
    assert prepare_digest(sent, today=today, actor="t").state == "sent"
    [mail] = [read_eml(p) for p in smtp_server.messages()]
    assert str(mail["To"]) == "hyvinvointivaliokunta@forssanseutu.example, puheenjohtaja@forssanseutu.example"
    assert "viikko 48" in str(mail["Subject"]).lower()
    assert "(Dnro FSHKY/245/00.04.01/2026)" in str(mail["Subject"])  # the committee's own diary number
    text = mail.get_body(("plain",)).get_content()
    assert "Dnro FSHKY/245/00.04.01/2026" in text
    assert "Tammelan kunta, kohta 1: hyväksytty ehdotuksen mukaisesti 1.3.2021 § 20" in text
    assert "Tammelan kunta: järjestöyhdyshenkilöksi nimettiin Teija Tammi" in text
    [attachment] = list(mail.iter_attachments())
    assert attachment.get_filename().startswith("Tilannekatsaus_")
    report = next((sent.outputs / sent.proposal_id / "viikkokooste").glob("*.docx"))
    assert "Teija Tammi" in docx_text(report)


class Greylist:
    async def handle_DATA(self, server, session, envelope):  # noqa: ANN001
        return "451 4.7.1 Greylisted, try again later"


def test_a_digest_refused_for_now_waits_for_its_backoff(sent: Settings, env: pytest.MonkeyPatch) -> None:
    """451 fails the call; calling again at once (a task retry) does not use up another attempt
    but says when the next try is; the row stays queued for the follow-up run."""
    from aiosmtpd.controller import Controller

    from council.errors import CouncilError
    from council.services.digest import send_digest
    from tests.conftest import free_port

    _record_tammela(sent, occurred_at=datetime(2026, 11, 25, 9, 0, tzinfo=HELSINKI))
    port = free_port()
    controller = Controller(Greylist(), hostname="127.0.0.1", port=port)
    controller.start()
    env.setenv("COUNCIL_LOCAL_SMTP_PORT", str(port))
    greylisted = get_settings()
    try:
        with pytest.raises(CouncilError, match="Viikkokoosteen lähetys epäonnistui: queued: SMTP 451"):
            send_digest(greylisted, today=date(2026, 11, 27), mailer=SmtpMailer(greylisted), actor="t")
        with pytest.raises(CouncilError, match=r"odottaa uutta yritystä \d+\.\d+\.\d{4} klo \d\d\.\d\d"):
            send_digest(greylisted, today=date(2026, 11, 27), mailer=SmtpMailer(greylisted), actor="t")
    finally:
        controller.stop()
    with Session(make_engine(sent.effective_database_url)) as session:
        row = session.scalars(select(Message).where(Message.kind == "digest")).one()
    assert (row.state, row.attempts) == ("queued", 1)


def test_a_digest_being_sent_elsewhere_is_not_reported_as_sent(
    sent: Settings, smtp_server: LocalSmtpServer
) -> None:
    """A row another run has claimed (state `sending`, lease not over) is neither sent twice nor
    called 'already sent'."""
    from council.errors import CouncilError
    from council.services.digest import send_digest
    from council.store.outbox import claim

    _record_tammela(sent, occurred_at=datetime(2026, 11, 25, 9, 0, tzinfo=HELSINKI))
    plan = prepare_digest(sent, today=date(2026, 11, 27), actor="t")
    with Session(make_engine(sent.effective_database_url)) as session, session.begin():
        assert claim(session=session, message_id=plan.message_id)
    with pytest.raises(CouncilError, match="lähetyksessä toisessa ajossa"):
        send_digest(sent, today=date(2026, 11, 27), mailer=SmtpMailer(sent), actor="t")
    assert smtp_server.messages() == []


def test_silent_sources_and_waiting_candidates_are_in_the_digest(
    sent: Settings, smtp_server: LocalSmtpServer
) -> None:
    """A body's publication failing for three days and a mailbox failing for two: the digest names
    the first as "ei vastaa" and not the second (not silent yet), and counts the waiting candidates."""
    from models.tables import Candidate, IntakeSource

    _record_tammela(sent, occurred_at=datetime(2026, 11, 25, 9, 0, tzinfo=HELSINKI))
    with Session(make_engine(sent.effective_database_url)) as session, session.begin():
        session.add(
            IntakeSource(
                id="publication:forssa",
                body_id="forssa",
                system="dynasty",
                address="https://forssa.example/dynasty/rss",
                failing_since=datetime(2026, 11, 24, 7, 0, tzinfo=HELSINKI),
                last_error="sivun rakennetta ei tunnistettu",
            )
        )
        session.add(
            Event(
                occurred_at=datetime(2026, 11, 25, 7, 0, tzinfo=HELSINKI),
                kind=EventKind.mailbox_failed.value,
                actor="t",
                data={"host": "imap.example", "error": "yhteys katkesi"},
            )
        )
        session.add(
            Candidate(
                proposal_id=sent.proposal_id,
                body_id="jokioinen",
                kind="decision",
                point=2,
                outcome=Outcome.hyvaksytty.value,
                meeting_date=date(2021, 3, 2),
                section=4,
                evidence="Kohta 2 hyväksyttiin.",
                source="x.eml",
                source_ref="<x>",
                state="pending",
                found_at=datetime(2026, 11, 25, 9, 0, tzinfo=HELSINKI),
            )
        )
    plan = prepare_digest(sent, today=date(2026, 11, 27), actor="t")
    deliver_messages(sent, [plan.message_id], SmtpMailer(sent), actor="t")
    [mail] = [read_eml(p) for p in smtp_server.messages()]
    text = " ".join(mail.get_body(("plain",)).get_content().split())
    assert (
        "Forssan kaupunki: julkaisulähde ei vastaa 24.11.2026 alkaen (https://forssa.example/dynasty/rss): "
        "sivun rakennetta ei tunnistettu" in text
    )
    assert "Postilaatikko" not in text  # failing for two days only
    assert "1 löydetty päätös odottaa vahvistusta" in text
    html = mail.get_body(("html",)).get_content()
    assert "julkaisulähde ei vastaa" in html


def test_a_silent_source_makes_a_week_without_changes_worth_a_digest(
    sent: Settings, smtp_server: LocalSmtpServer
) -> None:
    from models.tables import IntakeSource

    assert prepare_digest(sent, today=date(2026, 11, 27), actor="t").state == "no_changes"
    with Session(make_engine(sent.effective_database_url)) as session, session.begin():
        session.add(
            IntakeSource(
                id="publication:tammela",
                body_id="tammela",
                system="tweb",
                address="https://tammela.example/ktwebbin/dbisa.dll/ktwebscr/pk_kokl_tweb.htm",
                failing_since=datetime(2026, 11, 20, 7, 0, tzinfo=HELSINKI),
                last_error="palvelin vastasi 503",
            )
        )
    plan = prepare_digest(sent, today=date(2026, 11, 27), actor="t")
    assert plan.state == "queued"
    deliver_messages(sent, [plan.message_id], SmtpMailer(sent), actor="t")
    [mail] = [read_eml(p) for p in smtp_server.messages()]
    text = " ".join(mail.get_body(("plain",)).get_content().split())
    assert "- ei kirjattuja muutoksia" in text
    assert "Tammelan kunta: julkaisulähde ei vastaa 20.11.2026 alkaen" in text
