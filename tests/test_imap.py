"""The committee's mailbox over IMAP, against a real Dovecot started for each test: TLS only,
read-only, each message fetched once into the drop folder and read by `council replies`."""

from __future__ import annotations

import imaplib
import os
import pwd
import shutil
import ssl
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from council.cli import app
from council.config import Settings
from council.delivery.smtpd import LocalSmtpServer
from council.store.engine import make_engine
from models.tables import Message, Recipient
from tests.conftest import IN_CI, free_port

runner = CliRunner()
# A password with ä/ö on purpose: IMAP LOGIN cannot carry it, AUTHENTICATE PLAIN (UTF-8) can.
USER, PASSWORD = "valiokunta@forssanseutu.example", "salainen-sana-äö"


@dataclass(frozen=True)
class Dovecot:
    port: int
    ca_file: Path
    user: str
    password: str

    def client(self) -> imaplib.IMAP4_SSL:
        context = ssl.create_default_context(cafile=str(self.ca_file))
        client = imaplib.IMAP4_SSL("127.0.0.1", self.port, ssl_context=context, timeout=10)
        client.authenticate("PLAIN", lambda _: f"\0{self.user}\0{self.password}".encode())
        return client

    def deliver(self, raw: bytes) -> None:
        with self.client() as client:
            client.append("INBOX", None, None, raw)

    def seen_flags(self) -> list[bytes]:
        with self.client() as client:
            client.select("INBOX", readonly=True)
            _, data = client.uid("FETCH", "1:*", "(FLAGS)")
            return [d for d in data if isinstance(d, bytes)]


@pytest.fixture
def dovecot() -> Iterator[Dovecot]:
    """A real Dovecot IMAP server on 127.0.0.1 with implicit TLS and one passwd-file user."""
    binary = shutil.which("dovecot") or ("/usr/sbin/dovecot" if Path("/usr/sbin/dovecot").exists() else None)
    if binary is None:
        reason = "Dovecot puuttuu (apt-get install dovecot-imapd)"
        if IN_CI:
            pytest.fail(reason + " — CI=true requires it")
        pytest.skip(reason)
    # Outside pytest's 0700 folders: Dovecot's auth process runs as its own user and must reach
    # the passwd file.
    root = Path(tempfile.mkdtemp(prefix="council-dovecot-"))
    root.chmod(0o755)
    for sub in ("run", "state", "home"):
        (root / sub).mkdir(parents=True)
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(root / "key.pem"),
            "-out",
            str(root / "cert.pem"),
        ],
        check=True,
        capture_output=True,
    )
    # Dovecot refuses mail access as root: as root the mail user is dovecot's own.
    if os.getuid() == 0:
        account = pwd.getpwnam("dovecot")
        uid, gid = account.pw_uid, account.pw_gid
        shutil.chown(root / "home", uid, gid)
    else:
        uid, gid = os.getuid(), os.getgid()
    (root / "passwd").write_text(f"{USER}:{{PLAIN}}{PASSWORD}\n")
    port = free_port()
    config = root / "dovecot.conf"
    config.write_text(
        f"""first_valid_uid = 1
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
listen = 127.0.0.1
protocols = imap
ssl = required
ssl_cert = <{root}/cert.pem
ssl_key = <{root}/key.pem
auth_mechanisms = plain login
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/home/%u
}}
mail_location = maildir:~/Maildir
service imap-login {{
  chroot =
  inet_listener imap {{
    port = 0
  }}
  inet_listener imaps {{
    port = {port}
    ssl = yes
  }}
}}
service anvil {{
  chroot =
}}
"""
    )
    process = subprocess.Popen(
        [binary, "-F", "-c", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    server = Dovecot(port=port, ca_file=root / "cert.pem", user=USER, password=PASSWORD)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                server.client().logout()
                break
            except (OSError, imaplib.IMAP4.error):
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError((root / "dovecot.log").read_text(errors="replace")) from None
                time.sleep(0.2)
        yield server
    finally:
        process.terminate()
        process.wait(10)
        shutil.rmtree(root, ignore_errors=True)


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
