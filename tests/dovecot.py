"""A real Dovecot IMAP server for the tests (Debian's dovecot-imapd), started with a temporary
configuration and Maildir on 127.0.0.1 with implicit TLS and one mailbox user who can log in two
ways: a password (passwd-file passdb, PLAIN/LOGIN) or an OAuth2 bearer token (oauth2 passdb,
XOAUTH2/OAUTHBEARER). Dovecot checks a token by RFC 7662 introspection (``introspection_mode =
post``) against a tiny local HTTP server here that knows one token: active, with the user's name.
"""

from __future__ import annotations

import imaplib
import json
import os
import pwd
import shutil
import ssl
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs

import pytest

from tests.conftest import IN_CI, free_port

# A password with ä/ö on purpose: IMAP LOGIN cannot carry it, AUTHENTICATE PLAIN (UTF-8) can.
USER, PASSWORD = "valiokunta@forssanseutu.example", "salainen-sana-äö"
TOKEN = "ya29.a0Af-valiokunnan-testitunnus"


@dataclass(frozen=True)
class Dovecot:
    port: int
    ca_file: Path
    user: str
    password: str
    token: str
    introspected: list[str] = field(default_factory=list)  # the tokens Dovecot asked about

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


@contextmanager
def introspection(token: str, user: str, asked: list[str]) -> Iterator[str]:
    """An OAuth2 token introspection endpoint (RFC 7662): ``token`` is active for ``user``, any other
    is not. Yields its URL."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            length = int(self.headers.get("Content-Length") or 0)
            form = parse_qs(self.rfile.read(length).decode())
            given = (form.get("token") or [""])[0]
            asked.append(given)
            answer = {"active": True, "username": user, "scope": "imap"} if given == token else {"active": False}
            body = json.dumps(answer).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/introspect"
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def running_dovecot() -> Iterator[Dovecot]:
    """Dovecot as the module docstring says; skipped without Dovecot (a failure under CI)."""
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
    asked: list[str] = []
    with introspection(TOKEN, USER, asked) as url:
        (root / "dovecot-oauth2.conf.ext").write_text(
            f"""introspection_mode = post
introspection_url = {url}
force_introspection = yes
username_attribute = username
active_attribute = active
active_value = true
"""
        )
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
auth_mechanisms = plain login xoauth2 oauthbearer
passdb {{
  driver = passwd-file
  mechanisms = plain login
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
passdb {{
  driver = oauth2
  mechanisms = xoauth2 oauthbearer
  args = {root}/dovecot-oauth2.conf.ext
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
        server = Dovecot(
            port=port, ca_file=root / "cert.pem", user=USER, password=PASSWORD, token=TOKEN, introspected=asked
        )
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
