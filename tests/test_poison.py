"""Values already in the database that today's rules refuse ("poison") never stop other bodies' work.

The rows are written straight into the database, as an older version or a hand edit would have left
them; then record, import, follow-up, digest and dashboard run. The poisoned body's message fails with
a message that names the field; every other body's work proceeds.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from council.cli.commands import app
from council.config import Settings
from council.store.engine import make_engine
from models.enums import DecisionStatus, MessageState
from models.tables import Decision, Message
from tests.helpers import delivered_proposal, read_eml

runner = CliRunner()

POISON_LIAISONS = {
    "line-separator-in-name": ({"name": "Anna\u2028Bcc: x@evil.example"}, "nimi"),
    "display-name-address": ({"email": '"a@jokioinen.example" <x@evil.example>'}, "sähköposti"),
    "non-ascii-local-part": ({"email": "äijä@jokioinen.example"}, "sähköposti"),
    "bidi-override-in-title": ({"title": "koordinaattori\u202e"}, "tehtävänimike"),
    "negative-work-time": ({"work_time": "-8 h/kk"}, "työaika"),
    "control-character-in-name": ({"name": "Anna\x0bB"}, "nimi"),
}
GOOD_LIAISON = {
    "name": "Maija Meikäläinen",
    "title": "hyvinvointikoordinaattori",
    "email": "maija@jokioinen.example",
    "work_time": "8 h/kk",
}


def _poison(settings: Settings, body_id: str, liaison: dict) -> None:
    """Store a decided duties point with the given liaison for the body, bypassing validation."""
    with Session(make_engine(settings.effective_database_url)) as session, session.begin():
        session.execute(
            update(Decision)
            .where(Decision.body_id == body_id, Decision.point_number == 1)
            .values(
                status=DecisionStatus.decided.value,
                outcome="hyväksytty ehdotuksen mukaisesti",
                meeting_date=date(2026, 11, 2),
                section=59,
                deciding_body="Jokioisten kunnanhallitus",
                liaison=liaison,
                version=3,
                revision=1,
            )
        )


def _record(body: str, point: str = "2") -> object:
    return runner.invoke(
        app,
        ["record", body, point, "hyväksytty ehdotuksen mukaisesti", "--date", "2.11.2026", "--section", "12"],
    )


def _outbox_states(settings: Settings) -> dict[tuple[str, str], str]:
    with Session(make_engine(settings.effective_database_url)) as session:
        return {
            (b, k): state
            for b, k, state in session.execute(select(Message.body_id, Message.kind, Message.state))
        }


def _no_leak(settings: Settings) -> None:
    """No message went to the hidden address, none is left half-sent."""
    for eml in Path(settings.mail_dir).glob("*.eml"):
        assert "evil.example" not in str(read_eml(eml)), eml
    assert MessageState.sending.value not in _outbox_states(settings).values()


@pytest.mark.parametrize(("bad", "field"), POISON_LIAISONS.values(), ids=POISON_LIAISONS.keys())
def test_a_poisoned_liaison_fails_its_message_and_nothing_else(sent: Settings, bad: dict, field: str) -> None:
    """record (another body), import, follow-up, digest, dashboard and report all go on; the poisoned
    body's duty description and thank-you fail with the field named, and nothing leaks."""
    _poison(sent, "jokioinen", GOOD_LIAISON | bad)
    delivered_proposal(sent, "tammela", logical_date=date(2026, 11, 2))
    for point in ("2", "3", "4"):  # every point of Jokioinen decided: the thank-you is due too
        with Session(make_engine(sent.effective_database_url)) as session, session.begin():
            session.execute(
                update(Decision)
                .where(Decision.body_id == "jokioinen", Decision.point_number == int(point))
                .values(
                    status=DecisionStatus.decided.value,
                    outcome="hyväksytty ehdotuksen mukaisesti",
                    meeting_date=date(2026, 11, 2),
                    section=60,
                )
            )

    recorded = _record("humppila")
    assert recorded.exit_code == 0, recorded.output
    assert f"järjestöyhdyshenkilö: {field}" in recorded.output, recorded.output
    assert "Jokioisten kunta, kohta 1" in recorded.output

    csv = Path("tuonti.csv")
    csv.write_text(
        "vastaanottaja;kohta;paatos;kokouspaiva;pykala\nforssa;2;hyväksytty ehdotuksen mukaisesti;2.11.2026;5\n",
        encoding="utf-8",
    )
    imported = runner.invoke(app, ["import-decisions", str(csv)])
    assert imported.exit_code == 0 and "Tuotu 1" in imported.output, imported.output

    followed = runner.invoke(app, ["follow-up", "--today", "15.1.2027"])
    assert followed.exit_code in (0, 1) and "Traceback" not in followed.output, followed.output
    assert f"järjestöyhdyshenkilö: {field}" in followed.output, followed.output
    states = _outbox_states(sent)
    assert states[("tammela", "reminder")] == MessageState.sent.value  # others were reminded
    assert ("jokioinen", "duty_description") not in states and ("jokioinen", "confirmation") not in states

    for command in (["digest", "--today", "15.1.2027"], ["dashboard"], ["report"], ["status"]):
        result = runner.invoke(app, command)
        assert result.exit_code == 0, (command, result.output, result.exception)
    _no_leak(sent)
    with Session(make_engine(sent.effective_database_url)) as session:
        decided = session.scalars(
            select(Decision.status).where(
                Decision.body_id.in_(["humppila", "forssa"]), Decision.point_number == 2
            )
        ).all()
    assert decided == [DecisionStatus.decided.value] * 2


def test_a_correction_of_the_poisoned_liaison_sends_the_duty_description(sent: Settings) -> None:
    """Once the coordinator records a valid liaison over the bad one, the next run sends it."""
    _poison(sent, "jokioinen", GOOD_LIAISON | {"name": "Anna\u2028B"})
    assert "nimi" in _record("humppila").output
    fixed = runner.invoke(
        app,
        [
            "record",
            "jokioinen",
            "1",
            "hyväksytty ehdotuksen mukaisesti",
            "--date",
            "2.11.2026",
            "--section",
            "59",
            "--version",
            "1",
            "--liaison-name",
            "Anna B",
            "--liaison-title",
            "koordinaattori",
            "--liaison-email",
            "anna@jokioinen.example",
            "--liaison-work-time",
            "8 h/kk",
        ],
    )
    assert fixed.exit_code == 0, fixed.output
    assert _outbox_states(sent)[("jokioinen", "duty_description")] == MessageState.sent.value


@pytest.mark.parametrize(
    "address",
    [
        "äijä@jokioinen.example",
        '"kirjaamo@jokioinen.example" <x@evil.example>',
        "kirjaamo@jokioinen.example\u2028",
        "kirjaamo@jökioinen.example",  # stored before IDN domains were kept as xn--: smtplib cannot encode it
    ],
    ids=["non-ascii-local-part", "display-name", "line-separator", "unconverted-idn-domain"],
)
def test_a_queued_message_to_a_refused_address_fails_for_good_and_the_rest_go(
    sent: Settings, address: str
) -> None:
    """An outbox row queued with an address that today's rules refuse is failed (not left `sending`,
    no UnicodeEncodeError), its error names the address; the other queued messages are delivered."""
    delivered_proposal(sent, "tammela", logical_date=date(2026, 11, 2))
    delivered_proposal(sent, "ypaja", logical_date=date(2026, 11, 2))
    assert runner.invoke(app, ["follow-up", "--today", "15.1.2027", "--dry-run"]).exit_code == 0
    from council.services.follow_up import find_due, prepare_reminders

    due = find_due(sent, date(2027, 1, 15))
    ids = prepare_reminders(sent, due, today=date(2027, 1, 15), actor="test").ids
    with Session(make_engine(sent.effective_database_url)) as session, session.begin():
        session.execute(
            update(Message)
            .where(Message.body_id == "tammela", Message.kind == "reminder")
            .values(recipients=[address])
        )
    assert len(ids) == 2
    result = runner.invoke(app, ["follow-up", "--today", "15.1.2027"])
    assert "Traceback" not in result.output and not isinstance(result.exception, UnicodeError), result.output
    assert "ei kelpaa" in result.output or "ASCII" in result.output, result.output
    states = _outbox_states(sent)
    assert states[("tammela", "reminder")] == MessageState.failed.value
    assert states[("ypaja", "reminder")] == MessageState.sent.value
    _no_leak(sent)
