"""The committee's mailbox with an OAuth2 bearer token (SASL XOAUTH2), against the real Dovecot of
tests/dovecot.py, which checks each token at a local introspection endpoint: a good token reads the
mailbox read-only as a password does, a refused one is a Finnish message asking for a new token,
and the token can come from a Prefect Secret block instead of the environment."""

from __future__ import annotations

from collections.abc import Iterator
from email.message import EmailMessage

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from council.cli.commands import app
from council.config import Settings
from council.delivery.imap import _xoauth2
from council.delivery.smtpd import LocalSmtpServer
from council.store.engine import make_engine
from models.tables import Message, Recipient
from tests.dovecot import Dovecot, running_dovecot

runner = CliRunner()
BLOCK = "valiokunnan-imap-tunnus"


@pytest.fixture
def dovecot() -> Iterator[Dovecot]:
    """A real Dovecot with a password user who can also log in with an OAuth2 token."""
    with running_dovecot() as server:
        yield server


def _use_token(env: pytest.MonkeyPatch, server: Dovecot, **extra: str) -> None:
    env.setenv("COUNCIL_IMAP_HOST", "127.0.0.1")
    env.setenv("COUNCIL_IMAP_PORT", str(server.port))
    env.setenv("COUNCIL_IMAP_USER", server.user)
    env.setenv("COUNCIL_IMAP_CA_FILE", str(server.ca_file))
    env.setenv("COUNCIL_IMAP_AUTH", "xoauth2")
    env.delenv("COUNCIL_IMAP_PASSWORD", raising=False)
    for key, value in extra.items():
        env.setenv(key, value)


def _acknowledgement(settings: Settings, server: Dovecot) -> None:
    """Our proposal sent, and Humppila's acknowledgement of it waiting in the mailbox."""
    assert runner.invoke(app, ["send", "--today", "1.3.2021"]).exit_code == 0
    with Session(make_engine(settings.effective_database_url)) as session:
        ours = session.scalar(select(Message.message_id).where(Message.body_id == "humppila"))
    message = EmailMessage()
    message["From"] = "kirjaamo@humppila.example"
    message["To"] = server.user
    message["Subject"] = "Kuittaus"
    message["In-Reply-To"] = ours
    message.set_content("Diaarinumero: HUM/7/2026")
    server.deliver(message.as_bytes())


def _stored(settings: Settings) -> str | None:
    with Session(make_engine(settings.effective_database_url)) as session:
        return session.scalar(select(Recipient.case_number).where(Recipient.body_id == "humppila"))


def test_the_xoauth2_initial_response_is_the_documented_one() -> None:
    """user=…^Aauth=Bearer …^A^A first; the server's JSON error challenge is answered with an empty line."""
    answer = _xoauth2("valiokunta@forssanseutu.example", "tunnus-123")
    assert answer(b"") == b"user=valiokunta@forssanseutu.example\x01auth=Bearer tunnus-123\x01\x01"
    assert answer(b'{"status":"401","schemes":"bearer","scope":"mail"}') == b""


def test_a_good_token_reads_the_mailbox_read_only(
    settings: Settings, smtp_server: LocalSmtpServer, dovecot: Dovecot, env: pytest.MonkeyPatch
) -> None:
    """With COUNCIL_IMAP_TOKEN the mailbox is fetched as with a password: case number stored, nothing marked read."""
    _acknowledgement(settings, dovecot)
    _use_token(env, dovecot, COUNCIL_IMAP_TOKEN=dovecot.token)
    result = runner.invoke(app, ["replies"])
    assert result.exit_code == 0, result.output
    assert "1 uutta viestiä" in result.output and "Humppilan kunta: asianumero HUM/7/2026" in result.output
    assert _stored(settings) == "HUM/7/2026"
    assert dovecot.token in dovecot.introspected  # Dovecot really checked the token
    assert all(b"\\Seen" not in flags for flags in dovecot.seen_flags())


def test_a_refused_token_asks_for_a_new_one_in_finnish(
    settings: Settings, dovecot: Dovecot, env: pytest.MonkeyPatch
) -> None:
    """An expired or wrong token: exit 2, a Finnish message to renew it, the token never shown."""
    expired = "ya29.vanhentunut-tunnus"
    _use_token(env, dovecot, COUNCIL_IMAP_TOKEN=expired)
    result = runner.invoke(app, ["replies"])
    assert result.exit_code == 2, result.output
    assert "OAuth2-tunnus hylättiin" in result.output and "COUNCIL_IMAP_TOKEN" in result.output
    assert expired not in result.output and "Traceback" not in result.output
    assert expired in dovecot.introspected


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({}, "COUNCIL_IMAP_TOKEN tai COUNCIL_IMAP_TOKEN_BLOCK"),
        ({"COUNCIL_IMAP_TOKEN": "a", "COUNCIL_IMAP_TOKEN_BLOCK": "b"}, "aseta vain toinen"),
        ({"COUNCIL_IMAP_AUTH": "oauth"}, "sallitut arvot ovat password ja xoauth2"),
    ],
    ids=["no-token", "token-and-block", "unknown-mode"],
)
def test_token_settings_that_cannot_work_are_finnish_messages(
    settings: Settings, env: pytest.MonkeyPatch, extra: dict[str, str], message: str
) -> None:
    """Missing or double token settings are named before any connection is made."""
    env.setenv("COUNCIL_IMAP_HOST", "127.0.0.1")
    env.setenv("COUNCIL_IMAP_PORT", "1")  # nothing listens: a connection would be a different error
    env.setenv("COUNCIL_IMAP_USER", "valiokunta@forssanseutu.example")
    env.setenv("COUNCIL_IMAP_AUTH", "xoauth2")
    for key, value in extra.items():
        env.setenv(key, value)
    result = runner.invoke(app, ["replies"])
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output


def test_the_token_comes_from_a_prefect_secret_block(
    prefect_harness: None,
    settings: Settings,
    smtp_server: LocalSmtpServer,
    dovecot: Dovecot,
    env: pytest.MonkeyPatch,
) -> None:
    """COUNCIL_IMAP_TOKEN_BLOCK names a Secret block on the Prefect server; a missing block is named."""
    from prefect.blocks.system import Secret

    Secret(value=dovecot.token).save(BLOCK, overwrite=True)
    _acknowledgement(settings, dovecot)
    _use_token(env, dovecot, COUNCIL_IMAP_TOKEN_BLOCK=BLOCK)
    result = runner.invoke(app, ["replies"])
    assert result.exit_code == 0, result.output
    assert "Humppilan kunta: asianumero HUM/7/2026" in result.output and _stored(settings) == "HUM/7/2026"

    env.setenv("COUNCIL_IMAP_TOKEN_BLOCK", "ei-tallennettu-lohko")
    missing = runner.invoke(app, ["replies"])
    assert missing.exit_code == 2, missing.output
    assert "Secret-lohkosta 'ei-tallennettu-lohko'" in missing.output and "Traceback" not in missing.output

    Secret(value="ya29.vanhentunut").save(BLOCK, overwrite=True)
    env.setenv("COUNCIL_IMAP_TOKEN_BLOCK", BLOCK)
    refused = runner.invoke(app, ["replies"])
    assert refused.exit_code == 2 and f"uusi tunnus Secret-lohkoon '{BLOCK}'" in refused.output, refused.output
