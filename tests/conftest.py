"""Shared fixtures: an isolated configuration per test, real SQLite/PostgreSQL, a real SMTP server.

PostgreSQL tests use COUNCIL_TEST_POSTGRES_URL (default: the local server on 127.0.0.1:5432,
database `test`). Without a server they skip with the reason shown; under CI (CI=true) a missing
server is a failure.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from council.config import PROJECT_ROOT, Settings, get_settings
from council.delivery.smtpd import LocalSmtpServer
from council.store.engine import dispose_engines, upgrade

PG_ADMIN_URL = os.environ.get(
    "COUNCIL_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _postgres_available() -> str | None:
    try:
        engine = create_engine(PG_ADMIN_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("select 1"))
        engine.dispose()
        return None
    except Exception as exc:  # noqa: BLE001 - any failure means "no server" here
        return f"PostgreSQL ei ole saatavilla ({PG_ADMIN_URL}): {exc.__class__.__name__}"


@pytest.fixture(scope="session")
def libreoffice() -> str:
    """Path of LibreOffice's soffice (with poppler's pdftotext and pdftoppm), or skip (fail under CI)."""
    import shutil

    from council.delivery.pdf import soffice

    binary = soffice()
    poppler = [(name, shutil.which(name)) for name in ("pdftotext", "pdftoppm")]
    missing = [name for name, found in (("soffice", binary), *poppler) if not found]
    if missing or binary is None:
        reason = (
            f"LibreOffice/poppler puuttuu: {', '.join(missing)} "
            "(apt-get install libreoffice-writer-nogui poppler-utils)"
        )
        if IN_CI:
            pytest.fail(reason + " — CI=true requires it")
        pytest.skip(reason)
    return binary


@pytest.fixture(scope="session")
def munpack() -> str:
    """Path of mpack's munpack (a mail tool that decodes no RFC 2231/2047 names), or skip (fail under CI)."""
    import shutil

    binary = shutil.which("munpack")
    if binary is None:
        reason = "munpack puuttuu (apt-get install mpack)"
        if IN_CI:
            pytest.fail(reason + " — CI=true requires it")
        pytest.skip(reason)
    return binary


@pytest.fixture(scope="session")
def postgres_server() -> str:
    """Admin URL of a reachable PostgreSQL server, or skip (fail under CI)."""
    reason = _postgres_available()
    if reason:
        if IN_CI:
            pytest.fail(reason + " — CI=true requires it")
        pytest.skip(reason)
    return PG_ADMIN_URL


@pytest.fixture
def postgres_url(postgres_server: str) -> Iterator[str]:
    """A fresh, empty database on the PostgreSQL server, dropped after the test."""
    name = f"council_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(postgres_server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(postgres_server).set(database=name).render_as_string(hide_password=False)
    yield url
    dispose_engines()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each test using this runs on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'council.db'}"
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def smtp_server(tmp_path: Path) -> Iterator[LocalSmtpServer]:
    """A real SMTP server (aiosmtpd) on a free port that stores each message as .eml."""
    server = LocalSmtpServer(tmp_path / "outputs" / "mail", port=free_port())
    with server:
        yield server


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    """Point every COUNCIL_ setting at this test's own folder (no .env, no shared state)."""
    for key in list(os.environ):
        if key.startswith("COUNCIL_") and key != "COUNCIL_TEST_POSTGRES_URL":
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COUNCIL_OUTPUTS_DIR", str(tmp_path / "outputs"))
    monkeypatch.setenv("COUNCIL_DATABASE_URL", f"sqlite:///{tmp_path / 'council.db'}")
    monkeypatch.setenv("COUNCIL_INBOX_DIR", str(tmp_path / "saapuneet"))
    # PDF/A copies are on by default where LibreOffice is installed; the tests of PDF copies turn them
    # on themselves, the rest stay DOCX-only so that they do not wait for LibreOffice.
    monkeypatch.setenv("COUNCIL_ATTACH_PDF", "false")
    return monkeypatch


@pytest.fixture
def settings(env: pytest.MonkeyPatch, smtp_server: LocalSmtpServer) -> Settings:
    """Settings for a migrated SQLite database and the test's SMTP server."""
    env.setenv("COUNCIL_LOCAL_SMTP_PORT", str(smtp_server.port))
    s = get_settings()
    upgrade(s.effective_database_url)
    return s


@pytest.fixture(scope="session")
def prefect_harness() -> Iterator[None]:
    """One Prefect test server for the session; its first start can take over 20 s on 2 cores."""
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("DO_NOT_TRACK", "1")
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=180):
        yield


def sync_and_mark_sent(settings: Settings, body_ids: list[str] | None = None) -> None:
    """Store the content and mark the bodies' cells `sent`, as a completed send would."""
    from sqlalchemy.orm import Session

    from council.services.send import sync
    from council.store.engine import make_engine
    from council.store.tracking import mark_sent

    _, bodies = sync(settings, actor="test")
    with Session(make_engine(settings.effective_database_url)) as session, session.begin():
        for body in bodies:
            if body_ids is None or body.id in body_ids:
                mark_sent(
                    session=session,
                    proposal_id=settings.proposal_id,
                    body_id=body.id,
                    actor="test",
                    message_id="<test@example>",
                )


@pytest.fixture
def sent(settings: Settings) -> Settings:
    """A database where the proposal has been sent to all six bodies."""
    sync_and_mark_sent(settings)
    return settings


@pytest.fixture
def sent_any_db(env: pytest.MonkeyPatch, database_url: str) -> Settings:
    """Like `sent`, on SQLite and on PostgreSQL."""
    env.setenv("COUNCIL_DATABASE_URL", database_url)
    s = get_settings()
    upgrade(s.effective_database_url)
    sync_and_mark_sent(s)
    return s


# -- the council worker's fork server (council/worker/forks.py) ---------------------------------
def start_fork_server(path: Path, *, parent: bool = False) -> subprocess.Popen:
    """The fork server on ``path``; with ``parent``, under a parent process of its own that the test
    may kill (the server's pid is then the parent's only line of output)."""
    command = [sys.executable, "-m", "council.worker.forks", str(path)]
    if parent:
        code = (
            "import subprocess, sys, time; "
            f"p = subprocess.Popen({command!r}); print(p.pid, flush=True); time.sleep(600)"
        )
        command = [sys.executable, "-c", code]
    return subprocess.Popen(command, cwd=PROJECT_ROOT, stdout=subprocess.PIPE if parent else None)


def wait_for_socket(path: Path, server: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert server.poll() is None, "the fork server stopped before it answered"
        assert time.monotonic() < deadline, "the fork server did not answer"
        time.sleep(0.1)


@pytest.fixture(scope="session")
def fork_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, int]]:
    """One fork server for the session: its socket and pid (it imports Prefect and every flow
    before it answers; each child takes the asking test's environment)."""
    path = tmp_path_factory.mktemp("forks") / "forks.sock"
    server = start_fork_server(path)
    try:
        wait_for_socket(path, server)
        yield path, server.pid
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert not path.exists(), "the stopped fork server left its socket behind"
