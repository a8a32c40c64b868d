"""The follow-up engine: reminders on the policy's days only, once per round, and the thank-you."""

from __future__ import annotations

import threading
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from council.config import Settings, get_settings
from council.delivery.mail import SmtpMailer
from council.delivery.smtpd import LocalSmtpServer
from council.rules.calendar import is_quiet
from council.rules.reminders import BodyState, Cell, due_reminder, reminder_due_on
from council.services.follow_up import run_follow_up
from council.services.send import deliver_messages, prepare_proposal_messages, sync
from council.store.decisions import mark_on_agenda, record_decision
from council.store.engine import make_engine, upgrade
from council.store.outbox import claim
from models.decisions import DecisionIn
from models.enums import MessageState, Outcome
from models.schemas import ReminderPolicyIn
from models.tables import Message
from tests.conftest import free_port
from tests.helpers import read_eml

POLICY = ReminderPolicyIn(
    first_after_days=21,
    interval_days=14,
    max_reminders=4,
    escalate_after=2,
    escalation_email="puheenjohtaja@forssanseutu.example",
)
SENT = date(2026, 5, 15)  # a Friday


def test_reminder_days_follow_the_policy_and_skip_quiet_days() -> None:
    """Reminder 1 three weeks after sending; 2 moves past Midsummer; 3 past July."""
    assert reminder_due_on(1, SENT, None, POLICY) == date(2026, 6, 5)
    assert reminder_due_on(2, SENT, date(2026, 6, 5), POLICY) == date(2026, 6, 22)
    assert reminder_due_on(3, SENT, date(2026, 6, 22), POLICY) == date(2026, 8, 3)
    assert reminder_due_on(4, SENT, date(2026, 8, 3), POLICY) == date(2026, 8, 17)


def _state(*cells: Cell, reminders: int = 0, last: date | None = None) -> BodyState:
    return BodyState("x", SENT, reminders, last, False, list(cells))


OPEN = Cell(1, "sent", None, None, None)
DONE = Cell(2, "decided", "hylätty", date(2026, 6, 1), 5)


@pytest.mark.parametrize(
    ("state", "today", "expected_round"),
    [
        (_state(OPEN, DONE), date(2026, 6, 5), 1),
        (_state(OPEN, DONE), date(2026, 6, 4), None),
        (_state(DONE), date(2026, 6, 5), None),
        (_state(Cell(1, "on_agenda", None, date(2026, 6, 9), None)), date(2026, 6, 8), None),
        (_state(Cell(1, "on_agenda", None, date(2026, 6, 9), None)), date(2026, 6, 10), 1),
        (_state(Cell(1, "on_agenda", "pantu pöydälle", date(2026, 6, 1), 9)), date(2026, 6, 5), 1),
        (_state(OPEN, reminders=4, last=date(2026, 8, 17)), date(2026, 9, 30), None),
        (_state(OPEN, reminders=1, last=date(2026, 6, 5)), date(2026, 6, 19), None),
        (_state(OPEN), date(2026, 6, 6), None),
    ],
    ids=[
        "due",
        "not-yet",
        "all-decided",
        "future-meeting",
        "after-meeting",
        "tabled",
        "max-reached",
        "holiday",
        "weekend",
    ],
)
def test_due_reminder_rules(state: BodyState, today: date, expected_round: int | None) -> None:
    """Who is due: open points only, not before an agenda meeting, tabled still reminded, max respected."""
    due = due_reminder(state, POLICY, today)
    assert (due.round if due else None) == expected_round


def test_escalation_copies_from_the_round_after_k() -> None:
    """With K=2, reminders 1 and 2 go without copy, reminder 3 copies the escalation address."""
    assert due_reminder(_state(OPEN, reminders=1, last=date(2026, 6, 5)), POLICY, date(2026, 6, 22)).cc == ()
    third = due_reminder(_state(OPEN, reminders=2, last=date(2026, 6, 22)), POLICY, date(2026, 8, 3))
    assert third.cc == ("puheenjohtaja@forssanseutu.example",)
    assert third.deadline == date(2026, 8, 13)  # 90 days after 15.5.2026


def _decide(settings: Settings, body_id: str, point: int, outcome: Outcome, day: date, section: int) -> None:
    with Session(make_engine(settings.effective_database_url)) as session, session.begin():
        record_decision(
            session=session,
            proposal_id=settings.proposal_id,
            decision=DecisionIn(
                body_id=body_id, point=point, outcome=outcome, meeting_date=day, section=section
            ),
        )


def _send_on(settings: Settings, day: date) -> None:
    sync(settings, actor="test")
    pending = prepare_proposal_messages(settings, [], actor="test", on=day)
    assert len(deliver_messages(settings, pending, SmtpMailer(settings), actor="test").sent) == 6


def test_120_days_against_the_real_smtp_server(settings: Settings, smtp_server: LocalSmtpServer) -> None:
    """Each body is reminded on the policy's days only, escalated after two, thanked once when done."""
    _send_on(settings, SENT)
    mailer = SmtpMailer(settings)
    day = SENT
    while day <= SENT + timedelta(days=120):
        if day == date(2026, 6, 1):
            with Session(make_engine(settings.effective_database_url)) as session, session.begin():
                mark_on_agenda(
                    session=session,
                    proposal_id=settings.proposal_id,
                    body_id="tammela",
                    points=[1, 2, 3, 4],
                    meeting_date=date(2026, 6, 25),
                    actor="test",
                )
        if day == date(2026, 6, 10):
            for point in (1, 2, 3, 4):
                _decide(settings, "jokioinen", point, Outcome.hyvaksytty, day, 40 + point)
        if day == date(2026, 6, 25):
            for point in (1, 2, 3, 4):
                _decide(settings, "tammela", point, Outcome.poydalle, day, 10 + point)
        run_follow_up(settings, today=day, mailer=mailer, actor="test")
        run_follow_up(settings, today=day, mailer=mailer, actor="test")  # a rerun the same day sends nothing
        day += timedelta(days=1)

    with Session(make_engine(settings.effective_database_url)) as session:
        rows = session.scalars(select(Message).order_by(Message.id)).all()
    reminders: dict[str, list[date]] = defaultdict(list)
    for m in rows:
        assert m.state == MessageState.sent.value
        if m.kind == "reminder":
            reminders[m.body_id].append(m.logical_date)
    usual = [date(2026, 6, 5), date(2026, 6, 22), date(2026, 8, 3), date(2026, 8, 17)]
    assert reminders == {
        "forssa": usual,
        "humppila": usual,
        "ypaja": usual,
        "fshky": usual,
        "jokioinen": [date(2026, 6, 5)],
        "tammela": [date(2026, 6, 26), date(2026, 8, 3), date(2026, 8, 17), date(2026, 8, 31)],
    }
    assert all(not is_quiet(d, POLICY) for dates in reminders.values() for d in dates)
    confirmations = [m for m in rows if m.kind == "confirmation"]
    assert [(m.body_id, m.logical_date) for m in confirmations] == [("jokioinen", date(2026, 6, 10))]

    emls = [read_eml(p) for p in smtp_server.messages()]
    assert len(emls) == 6 + 21 + 1
    escalated = [m for m in emls if m["Cc"]]
    assert len(escalated) == 10
    assert all(str(m["Cc"]) == "puheenjohtaja@forssanseutu.example" for m in escalated)
    assert all(m["Subject"].startswith(("Muistutus (3)", "Muistutus (4)")) for m in escalated)
    tabled = next(
        m for m in emls if m["Subject"].startswith("Muistutus:") and m["To"] == "kirjaamo@tammela.example"
    )
    text = tabled.get_body(("plain",)).get_content()
    assert "pantu pöydälle 25.6.2026 § 11, odottaa uutta käsittelyä" in text
    attachment = next(tabled.iter_attachments())
    assert attachment.get_filename() == "Esitys_Tammelan_kunta_muistutus_1.docx"


def test_two_runs_at_once_send_each_reminder_once(settings: Settings, smtp_server: LocalSmtpServer) -> None:
    """Two follow-up runs started together on the due day produce one reminder per body."""
    _send_on(settings, SENT)
    before = len(smtp_server.messages())
    errors: list[BaseException] = []

    def run() -> None:
        try:
            run_follow_up(
                get_settings(), today=date(2026, 6, 5), mailer=SmtpMailer(get_settings()), actor="t"
            )
        except BaseException as exc:  # noqa: BLE001 - surfaced by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(smtp_server.messages()) - before == 6


def test_smtp_stopped_then_restarted_delivers_each_queued_reminder_once(
    env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """With the server down the reminders stay queued with the error; after a restart each goes once."""
    port = free_port()
    env.setenv("COUNCIL_LOCAL_SMTP_PORT", str(port))
    settings = get_settings()
    upgrade(settings.effective_database_url)
    with LocalSmtpServer(tmp_path / "first", port=port):
        _send_on(settings, SENT)
    report = run_follow_up(settings, today=date(2026, 6, 5), mailer=SmtpMailer(settings), actor="t")
    assert len(report.due) == 6 and report.delivered == [] and len(report.failed) == 6
    engine = make_engine(settings.effective_database_url)
    with Session(engine) as session:
        queued = session.scalars(select(Message).where(Message.kind == "reminder")).all()
        assert {m.state for m in queued} == {"queued"} and all(m.last_error for m in queued)
        assert all(m.next_attempt_at is not None for m in queued)
    with LocalSmtpServer(tmp_path / "second", port=port) as server:
        # Within the backoff the next run leaves them queued ...
        assert (
            run_follow_up(settings, today=date(2026, 6, 5), mailer=SmtpMailer(settings), actor="t").delivered
            == []
        )
        # ... once it has passed (simulated by moving the retry time), each is delivered exactly once.
        with Session(engine) as session, session.begin():
            session.execute(update(Message).values(next_attempt_at=None))
        assert (
            len(
                run_follow_up(
                    settings, today=date(2026, 6, 6), mailer=SmtpMailer(settings), actor="t"
                ).delivered
            )
            == 6
        )
        assert (
            run_follow_up(settings, today=date(2026, 6, 8), mailer=SmtpMailer(settings), actor="t").delivered
            == []
        )
        assert len(server.messages()) == 6


def test_crash_between_sending_and_recording_resends_with_the_same_message_id(
    settings: Settings, smtp_server: LocalSmtpServer
) -> None:
    """A message left `sending` by a crash is sent again only after the lease, with its Message-ID."""
    sync(settings, actor="test")
    [pk] = prepare_proposal_messages(settings, ["ypaja"], actor="test")
    engine = make_engine(settings.effective_database_url)
    with Session(engine) as session, session.begin():
        assert claim(session=session, message_id=pk)  # the crashed sender's claim
    # The crashed sender had delivered it: the server holds one copy.
    from council.delivery.mail import compose
    from council.services.send import _outgoing

    with Session(engine) as session:
        message = session.get_one(Message, pk)
        original_id = message.message_id
        with SmtpMailer(settings).session() as mail:
            mail.send(compose(_outgoing(settings, message)))
    assert deliver_messages(settings, [pk], SmtpMailer(settings), actor="t").skipped == [str(pk)]
    with Session(engine) as session, session.begin():
        session.execute(update(Message).values(claimed_at=datetime.now(UTC) - timedelta(minutes=16)))
    assert deliver_messages(settings, [pk], SmtpMailer(settings), actor="t").sent == ["ypaja/proposal/0"]
    ids = [read_eml(p)["Message-ID"] for p in smtp_server.messages()]
    assert ids == [original_id, original_id]


def test_cli_dry_run_prints_who_would_get_what(settings: Settings, smtp_server: LocalSmtpServer) -> None:
    """`council follow-up --dry-run --today` lists the due bodies and sends nothing."""
    from typer.testing import CliRunner

    from council.cli.commands import app

    _send_on(settings, SENT)
    before = len(smtp_server.messages())
    result = CliRunner().invoke(app, ["follow-up", "--today", "2026-06-05", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "Jokioisten kunta saisi muistutuksen 1 (erääntyi 5.6.2026), avoimet kohdat: 1, 2, 3, 4" in result.output
    assert len(smtp_server.messages()) == before
    result = CliRunner().invoke(app, ["follow-up", "--today", "2026-06-05"])
    assert result.exit_code == 0 and "Lähetetty 6 viestiä" in result.output
