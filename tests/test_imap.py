"""The committee's mailbox over IMAP, against a real Dovecot started for each test: TLS only,
read-only, each message fetched once into the drop folder and read by `council replies`."""

from __future__ import annotations

from collections.abc import Iterator
from email.message import EmailMessage

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from council.cli.commands import app
from council.config import Settings
from council.delivery.smtpd import LocalSmtpServer
from council.store.engine import make_engine
from models.tables import Message, Recipient
from tests.dovecot import USER, Dovecot, running_dovecot

runner = CliRunner()


@pytest.fixture
def dovecot() -> Iterator[Dovecot]:
    """A real Dovecot IMAP server on 127.0.0.1 with implicit TLS and one user (tests/dovecot.py)."""
    with running_dovecot() as server:
        yield server


def _use(env: pytest.MonkeyPatch, server: Dovecot, **extra: str) -> None:
    env.setenv("COUNCIL_IMAP_HOST", "127.0.0.1")
    env.setenv("COUNCIL_IMAP_PORT", str(server.port))
    env.setenv("COUNCIL_IMAP_USER", server.user)
    env.setenv("COUNCIL_IMAP_PASSWORD", server.password)
    env.setenv("COUNCIL_IMAP_CA_FILE", str(server.ca_file))
    for key, value in extra.items():
        env.setenv(key, value)


def _reply(sender: str, subject: str, text: str, in_reply_to: str = "") -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = USER
    message["Subject"] = subject
    if in_reply_to:
        message["In-Reply-To"] = in_reply_to
    message.set_content(text)
    return message.as_bytes()


def test_replies_are_fetched_read_only_once_and_their_case_numbers_kept(
    settings: Settings, smtp_server: LocalSmtpServer, dovecot: Dovecot, env: pytest.MonkeyPatch
) -> None:
    assert runner.invoke(app, ["send", "--today", "1.3.2021"]).exit_code == 0
    with Session(make_engine(settings.effective_database_url)) as session:
        ours = session.scalar(select(Message.message_id).where(Message.body_id == "humppila"))
    dovecot.deliver(_reply("kirjaamo@humppila.example", "Kuittaus", "Diaarinumero: HUM/7/2026", ours))
    dovecot.deliver(_reply("uutiset@muualla.example", "Uutiskirje", "Tervetuloa"))
    _use(env, dovecot)

    first = runner.invoke(app, ["replies"])
    assert first.exit_code == 0, first.output
    assert "2 uutta viestiä" in first.output and "Humppilan kunta: asianumero HUM/7/2026" in first.output
    assert "Tunnistamaton" in first.output
    with Session(make_engine(settings.effective_database_url)) as session:
        assert (
            session.scalar(select(Recipient.case_number).where(Recipient.body_id == "humppila"))
            == "HUM/7/2026"
        )
    assert len(list(settings.inbox_dir.glob("imap-*.eml"))) == 2
    assert all(b"\\Seen" not in flags for flags in dovecot.seen_flags())  # read-only: nothing marked read

    dovecot.deliver(_reply("kirjaamo@ypaja.example", "Vs: esitys", "Asianumero YPA 12/2026"))
    second = runner.invoke(app, ["replies"])
    assert "1 uutta viestiä (2 haettu jo aiemmin)" in second.output, second.output
    assert "Ypäjän kunta: asianumero YPA 12/2026" in second.output
    from council.dashboard.build import mailbox_status

    with Session(make_engine(settings.effective_database_url)) as session:
        status = mailbox_status(session=session)
    assert status is not None and status.ok and status.last_ok == status.last_read and status.error is None
    # each reading says how many messages were new: the last one with any is the mailbox's last change
    from models.enums import EventKind
    from models.tables import Event

    with Session(make_engine(settings.effective_database_url)) as session:
        news = [
            (e.data or {}).get("new")
            for e in session.scalars(
                select(Event).where(Event.kind == EventKind.mailbox_read.value).order_by(Event.id)
            )
        ]
    assert news == [2, 1]


@pytest.mark.parametrize(
    ("setting", "value", "message"),
    [
        ("COUNCIL_IMAP_PASSWORD", "väärä-sana", "kirjautuminen hylättiin"),
        ("COUNCIL_IMAP_CA_FILE", "", "varmenne"),  # the self-signed certificate is not trusted
        ("COUNCIL_IMAP_TLS", "none", "COUNCIL_IMAP_TLS"),
    ],
    ids=["wrong-password", "untrusted-certificate", "plain-text-refused"],
)
def test_mailbox_problems_are_finnish_messages(
    settings: Settings, dovecot: Dovecot, env: pytest.MonkeyPatch, setting: str, value: str, message: str
) -> None:
    _use(env, dovecot)
    if value:
        env.setenv(setting, value)
    else:
        env.delenv(setting)
    result = runner.invoke(app, ["replies"])
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output
    assert dovecot.password not in result.output
