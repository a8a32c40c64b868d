"""follow-up under Prefect's test harness: dry run, one reminder per due body, reruns, SMTP failures."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select
from sqlalchemy.orm import Session

from council.config import Settings
from council.delivery.smtpd import EmlHandler, LocalSmtpServer
from council.rules.formatting import fi_date
from council.store.decisions import record_decision
from council.store.engine import make_engine
from flows.follow_up import FollowUpIn, follow_up
from models.decisions import DecisionIn
from models.enums import Outcome
from models.tables import Message
from tests.conftest import free_port
from tests.helpers import delivered_proposal, read_eml

pytestmark = pytest.mark.prefect

SENT = date(2026, 5, 15)  # a Friday
FIRST_REMINDER = date(2026, 6, 5)  # reminder 1 under the proposal's policy: SENT + 21 days
SHORT_TITLE = "Järjestöjen ja julkisen sektorin yhteistyömalli"
DUE = ["forssa", "jokioinen", "tammela"]  # roster order


DNRO = "FSHKY/245/00.04.01/2026"  # the seed proposal's diary_number


def _set_up(settings: Settings) -> None:
    """Forssa, Jokioinen and Tammela got the proposal on SENT and decided nothing: due on FIRST_REMINDER.

    Humppila got it too but has decided every point (no reminder, a thank-you); Ypäjä and FSHKY
    have no delivered proposal email (never due).
    """
    for body_id in [*DUE, "humppila"]:
        delivered_proposal(settings, body_id, logical_date=SENT)
    with Session(make_engine(settings.effective_database_url)) as session, session.begin():
        for point in (1, 2, 3, 4):
            record_decision(
                session=session,
                proposal_id=settings.proposal_id,
                decision=DecisionIn(
                    body_id="humppila",
                    point=point,
                    outcome=Outcome.hyvaksytty,
                    meeting_date=date(2026, 6, 1),
                    section=30 + point,
                ),
            )


def _messages(settings: Settings, kind: str) -> list[Message]:
    with Session(make_engine(settings.effective_database_url)) as session:
        return list(session.scalars(select(Message).where(Message.kind == kind).order_by(Message.id)))


def test_dry_run_lists_the_due_bodies_and_sends_nothing(
    prefect_harness: None, sent: Settings, smtp_server: LocalSmtpServer
) -> None:
    """On the first reminder day a dry run returns only the due bodies; no mail, no queued rows."""
    _set_up(sent)
    assert follow_up(ajo=FollowUpIn(paiva=fi_date(FIRST_REMINDER), kuivaharjoitus=True)) == {"due": DUE}
    assert smtp_server.messages() == []
    assert _messages(sent, "reminder") == [] and _messages(sent, "confirmation") == []


def test_day_before_the_first_reminder_sends_nothing(
    prefect_harness: None, sent: Settings, smtp_server: LocalSmtpServer
) -> None:
    """The day before, nobody is due; only Humppila's thank-you goes."""
    _set_up(sent)
    result = follow_up(ajo=FollowUpIn(paiva=fi_date(date(2026, 6, 4))))
    assert result == {"due": [], "sent": ["humppila/confirmation/0"], "failed": {}, "thanks": 1}
    assert _messages(sent, "reminder") == []


def test_one_reminder_per_due_body_then_nothing_more_the_same_day(
    prefect_harness: None, sent: Settings, smtp_server: LocalSmtpServer, env: pytest.MonkeyPatch
) -> None:
    """Every due body (over two batches) gets reminder 1 and Humppila its thank-you; a rerun sends nothing."""
    env.setenv("COUNCIL_BATCH_SIZE", "2")  # three due bodies: two prepare-reminders batches
    _set_up(sent)
    result = follow_up(ajo=FollowUpIn(paiva=fi_date(FIRST_REMINDER)))
    assert result == {
        "due": DUE,
        "sent": [*(f"{b}/reminder/1" for b in DUE), "humppila/confirmation/0"],
        "failed": {},
        "thanks": 1,
    }
    mails = [read_eml(p) for p in smtp_server.messages()]
    assert sorted((str(m["To"]), str(m["Subject"])) for m in mails) == [
        ("kirjaamo@forssa.example", f"Muistutus: {SHORT_TITLE} – Forssan kaupunginhallitus (Dnro {DNRO})"),
        ("kirjaamo@humppila.example", f"Kiitos päätöksistä: {SHORT_TITLE} – Humppilan kunta (Dnro {DNRO})"),
        ("kirjaamo@jokioinen.example", f"Muistutus: {SHORT_TITLE} – Jokioisten kunnanhallitus (Dnro {DNRO})"),
        ("kirjaamo@tammela.example", f"Muistutus: {SHORT_TITLE} – Tammelan kunnanhallitus (Dnro {DNRO})"),
    ]
    assert all(m["Cc"] is None for m in mails)
    reminders = _messages(sent, "reminder")
    assert [(m.body_id, m.round, m.logical_date, m.state) for m in reminders] == [
        (b, 1, FIRST_REMINDER, "sent") for b in DUE
    ]

    again = follow_up(ajo=FollowUpIn(paiva=fi_date(FIRST_REMINDER)))
    assert again == {"due": [], "sent": [], "failed": {}, "thanks": 0}
    assert len(smtp_server.messages()) == 4
    assert len(_messages(sent, "reminder")) == 3 and len(_messages(sent, "confirmation")) == 1


class RefuseTammelaData(EmlHandler):
    """Stores mail like the local server, but answers DATA for Tammela's registry with ``reply``."""

    def __init__(self, folder: Path, reply: str):
        super().__init__(folder)
        self.reply = reply

    async def handle_DATA(self, server, session, envelope):  # noqa: ANN001
        if any("tammela" in address for address in envelope.rcpt_tos):
            return self.reply
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture
def refusing_smtp(request: pytest.FixtureRequest, env: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    """Point the settings at an SMTP server that refuses Tammela's mail; yields its mail folder."""
    folder, port = tmp_path / "refusing", free_port()
    controller = Controller(RefuseTammelaData(folder, request.param), hostname="127.0.0.1", port=port)
    controller.start()
    env.setenv("COUNCIL_LOCAL_SMTP_PORT", str(port))
    try:
        yield folder
    finally:
        controller.stop()


@pytest.mark.parametrize("refusing_smtp", ["554 5.7.1 Message rejected"], indirect=True)
def test_permanent_smtp_failure_fails_the_run(
    prefect_harness: None, sent: Settings, refusing_smtp: Path
) -> None:
    """A 5xx for Tammela's reminder fails the run naming it; the other reminders are delivered."""
    _set_up(sent)
    with pytest.raises(
        RuntimeError,
        match=r"^Pysyvästi epäonnistuneet viestit: tammela/reminder/1: failed: SMTP 554: .*Message rejected",
    ):
        follow_up(ajo=FollowUpIn(paiva=fi_date(FIRST_REMINDER)))
    states = {m.body_id: m.state for m in _messages(sent, "reminder")}
    assert states == {"forssa": "sent", "jokioinen": "sent", "tammela": "failed"}
    assert sorted(str(read_eml(p)["To"]) for p in refusing_smtp.glob("*.eml")) == [
        "hyvinvointivaliokunta@forssanseutu.example",  # the coordinator (the sender by default): run failed
        "kirjaamo@forssa.example",
        "kirjaamo@humppila.example",
        "kirjaamo@jokioinen.example",
    ]


@pytest.mark.parametrize("refusing_smtp", ["451 4.3.0 Temporary failure, try again later"], indirect=True)
def test_temporary_smtp_failure_is_reported_but_does_not_fail_the_run(
    prefect_harness: None, sent: Settings, refusing_smtp: Path
) -> None:
    """A 4xx leaves Tammela's reminder queued for the next run: the run completes and reports it."""
    _set_up(sent)
    result = follow_up(ajo=FollowUpIn(paiva=fi_date(FIRST_REMINDER)))
    assert result["sent"] == ["forssa/reminder/1", "jokioinen/reminder/1", "humppila/confirmation/0"]
    assert list(result["failed"]) == ["tammela/reminder/1"]
    assert result["failed"]["tammela/reminder/1"].startswith("queued: SMTP 451: ")
    [tammela] = [m for m in _messages(sent, "reminder") if m.body_id == "tammela"]
    assert tammela.state == "queued" and tammela.attempts == 1
