"""Faults survived: SMTP errors and drops, a killed sender, a locked database, concurrent writers.

Each test asserts what was delivered (the .eml files the real SMTP server kept) and what was stored.
The exact guarantees are written down in RELIABILITY.md.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select, update
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from council.cli.commands import app
from council.config import PROJECT_ROOT, Settings, get_settings
from council.delivery.mail import SmtpMailer
from council.delivery.smtpd import EmlHandler
from council.errors import DecisionConflictError
from council.services.follow_up import run_follow_up
from council.services.send import deliver_messages, prepare_proposal_messages, sync
from council.store.decisions import record_decision
from council.store.engine import make_engine, upgrade
from models.decisions import DecisionIn
from models.enums import MessageState, Outcome
from models.tables import Decision, Event, Message
from tests.conftest import free_port
from tests.helpers import read_eml


class FlakyHandler(EmlHandler):
    """Stores like the local server, but fails the first ``failures`` DATA commands in a given way."""

    def __init__(self, folder: Path, mode: str, failures: int = 1, delay: float = 0.0):
        super().__init__(folder)
        self.mode, self.failures, self.delay = mode, failures, delay

    async def handle_DATA(self, server, session, envelope):  # noqa: ANN001
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.failures > 0:
            self.failures -= 1
            if self.mode == "451":
                return "451 4.3.0 Temporary failure, try again later"
            if self.mode == "drop":
                server.transport.close()
                return "421 closing"
        return await super().handle_DATA(server, session, envelope)


def _server(folder: Path, mode: str = "ok", failures: int = 0, delay: float = 0.0) -> tuple[Controller, int]:
    port = free_port()
    controller = Controller(FlakyHandler(folder, mode, failures, delay), hostname="127.0.0.1", port=port)
    controller.start()
    return controller, port


def _messages(settings: Settings) -> list[Message]:
    with Session(make_engine(settings.effective_database_url)) as session:
        return list(session.scalars(select(Message).order_by(Message.id)))


@pytest.mark.parametrize("mode", ["451", "drop"], ids=["451-then-250", "drop-after-data"])
def test_transient_smtp_failure_is_retried_and_delivered_once(
    env: pytest.MonkeyPatch, tmp_path: Path, mode: str
) -> None:
    """A 451 or a dropped connection leaves the message queued with the error; the next run delivers it once."""
    controller, port = _server(tmp_path / "mail", mode, failures=1)
    try:
        env.setenv("COUNCIL_LOCAL_SMTP_PORT", str(port))
        settings = get_settings()
        upgrade(settings.effective_database_url)
        sync(settings, actor="t")
        pending = prepare_proposal_messages(settings, ["forssa", "ypaja"], actor="t")
        first = deliver_messages(settings, pending, SmtpMailer(settings), actor="t")
        assert len(first.failed) == 1 and len(first.sent) == 1
        [failed] = [m for m in _messages(settings) if m.state == MessageState.queued.value]
        assert failed.attempts == 1 and failed.last_error
        assert ("451" in failed.last_error) if mode == "451" else ("yhteys" in failed.last_error)
        second = deliver_messages(settings, pending, SmtpMailer(settings), actor="t")
        assert len(second.sent) == 1
    finally:
        controller.stop()
    delivered = Counter(read_eml(p)["Message-ID"] for p in (tmp_path / "mail").glob("*.eml"))
    assert sorted(delivered.values()) == [1, 1]
    assert set(delivered) == {m.message_id for m in _messages(settings)}
    assert {m.state for m in _messages(settings)} == {"sent"}


def test_sender_killed_mid_batch_then_rerun(env: pytest.MonkeyPatch, tmp_path: Path, database_url: str) -> None:
    """SIGKILL during a send: the rerun delivers the rest; only the in-flight one may repeat, same Message-ID."""
    controller, port = _server(tmp_path / "mail", delay=0.6)
    env.setenv("COUNCIL_LOCAL_SMTP_PORT", str(port))
    env.setenv("COUNCIL_DATABASE_URL", database_url)
    settings = get_settings()
    upgrade(settings.effective_database_url)
    council = str(Path(sys.executable).parent / "council")
    child_env = {**os.environ}
    try:
        proc = subprocess.Popen(
            [council, "send"],
            env=child_env,
            cwd=PROJECT_ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while len(list((tmp_path / "mail").glob("*.eml"))) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        assert len(list((tmp_path / "mail").glob("*.eml"))) < 6, "the batch finished before the kill"
        rerun = subprocess.run(
            [council, "send"], env=child_env, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120
        )
        assert rerun.returncode == 0, rerun.stdout + rerun.stderr
        stuck = [m for m in _messages(settings) if m.state != "sent"]
        assert len(stuck) <= 1 and all(m.state == "sending" for m in stuck)
        # After the 15-minute lease (simulated) a later run sends the in-flight message again.
        engine = make_engine(settings.effective_database_url)
        with Session(engine) as session, session.begin():
            session.execute(update(Message).values(claimed_at=datetime.now(UTC) - timedelta(minutes=16)))
        final = subprocess.run(
            [council, "send"], env=child_env, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120
        )
        assert final.returncode == 0, final.stdout + final.stderr
    finally:
        controller.stop()
    rows = _messages(settings)
    assert len(rows) == 6 and {m.state for m in rows} == {"sent"}
    delivered = Counter(read_eml(p)["Message-ID"] for p in (tmp_path / "mail").glob("*.eml"))
    assert set(delivered) == {m.message_id for m in rows}  # nothing lost
    assert sum(delivered.values()) - 6 <= 1  # at most the one in flight repeats, with its own Message-ID


#: `council send` that kills itself (SIGKILL) while queueing: at the 5th message queued, in the second
#: batch of three, after the 4th message's row was inserted in the batch's transaction.
DIES_WHILE_QUEUEING = """
import os, signal, sys
import council.services.send as send
queue, calls = send.queue_message, []
def dying(**kwargs):
    calls.append(kwargs["mail"].body_id)
    if len(calls) == 5:
        os.kill(os.getpid(), signal.SIGKILL)
    return queue(**kwargs)
send.queue_message = dying
from council.cli.commands import app
sys.argv = ["council", "send"]
app()
"""


def test_sender_killed_while_queueing_a_batch_queues_none_of_it(
    env: pytest.MonkeyPatch, tmp_path: Path, database_url: str
) -> None:
    """A batch's messages are queued in one transaction: SIGKILL in the middle of it leaves none of that
    batch queued (and none sent); the batch before it is sent and recorded, and the rerun sends each
    of the rest once."""
    controller, port = _server(tmp_path / "mail")
    env.setenv("COUNCIL_LOCAL_SMTP_PORT", str(port))
    env.setenv("COUNCIL_DATABASE_URL", database_url)
    env.setenv("COUNCIL_BATCH_SIZE", "3")
    settings = get_settings()
    upgrade(settings.effective_database_url)
    council = str(Path(sys.executable).parent / "council")
    try:
        killed = subprocess.run(
            [sys.executable, "-c", DIES_WHILE_QUEUEING],
            env={**os.environ},
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert killed.returncode == -signal.SIGKILL, killed.stdout + killed.stderr
        first = _messages(settings)
        assert len(first) == 3 and {m.state for m in first} == {"sent"}  # the first batch, recorded
        assert len(list((tmp_path / "mail").glob("*.eml"))) == 3  # and nothing of the second went out
        rerun = subprocess.run(
            [council, "send"], env={**os.environ}, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120
        )
        assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    finally:
        controller.stop()
    rows = _messages(settings)
    assert len(rows) == 6 and {m.state for m in rows} == {"sent"}
    assert len({m.body_id for m in rows}) == 6
    assert [m.id for m in rows[:3]] == [m.id for m in first]  # the first batch was not queued again
    delivered = Counter(read_eml(p)["Message-ID"] for p in (tmp_path / "mail").glob("*.eml"))
    assert delivered == Counter({m.message_id: 1 for m in rows})  # each body's email exactly once


def test_locked_database_is_reported_and_nothing_is_lost(
    sent: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another writer holding SQLite past the busy timeout: a clear error, nothing written; then it works."""
    from council.store import engine as db

    db.dispose_engines()
    monkeypatch.setenv("COUNCIL_SQLITE_BUSY_TIMEOUT_MS", "300")
    path = sent.effective_database_url.removeprefix("sqlite:///")
    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    try:
        result = CliRunner().invoke(
            app, ["record", "jokioinen", "2", "hylätty", "--date", "15.3.2021", "--section", "9"]
        )
        assert result.exit_code == 2
        assert "Tietokanta on varattu" in result.output and "database is locked" not in result.output
    finally:
        blocker.rollback()
        blocker.close()
    with Session(make_engine(sent.effective_database_url)) as session:
        assert (
            session.scalars(select(Decision.outcome).where(Decision.body_id == "jokioinen")).all()
            == [None] * 4
        )
    result = CliRunner().invoke(
        app, ["record", "jokioinen", "2", "hylätty", "--date", "15.3.2021", "--section", "9"]
    )
    assert result.exit_code == 0, result.output
    db.dispose_engines()


def test_ten_recordings_and_a_follow_up_at_once(sent_any_db: Settings, smtp_server) -> None:  # noqa: ANN001
    """Ten writers on ten cells and a follow-up run together: every decision stored, no lost update."""
    bodies = ["forssa", "humppila", "jokioinen", "tammela", "ypaja"]
    cells = [(b, p) for b in bodies for p in (1, 2)]
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(cells) + 1)

    def record(body: str, point: int) -> None:
        try:
            barrier.wait()
            with Session(make_engine(sent_any_db.effective_database_url)) as session, session.begin():
                record_decision(
                    session=session,
                    proposal_id=sent_any_db.proposal_id,
                    decision=DecisionIn(
                        body_id=body,
                        point=point,
                        outcome=Outcome.hyvaksytty,
                        meeting_date=date(2021, 3, 1),
                        section=10 + point,
                    ),
                )
        except BaseException as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    def follow_up() -> None:
        try:
            barrier.wait()
            s = get_settings(database_url=sent_any_db.effective_database_url)
            run_follow_up(s, today=date(2026, 11, 30), mailer=SmtpMailer(s), actor="t")
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=record, args=c) for c in cells] + [threading.Thread(target=follow_up)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    with Session(make_engine(sent_any_db.effective_database_url)) as session:
        stored = session.execute(
            select(Decision.body_id, Decision.point_number).where(Decision.outcome.is_not(None))
        ).all()
        events = session.scalars(select(Event).where(Event.kind == "decision_recorded")).all()
    assert sorted(stored) == sorted(cells) and len(events) == 10


def test_two_writers_on_one_cell_one_wins(sent_any_db: Settings) -> None:
    """Two recordings of the same decided cell based on the same version: exactly one succeeds."""
    engine = make_engine(sent_any_db.effective_database_url)
    with Session(engine) as session, session.begin():
        out = record_decision(
            session=session,
            proposal_id=sent_any_db.proposal_id,
            decision=DecisionIn(
                body_id="ypaja", point=4, outcome=Outcome.hyvaksytty, meeting_date=date(2021, 3, 1), section=4
            ),
        )
    results: list[str] = []
    barrier = threading.Barrier(2)

    def correct(section: int) -> None:
        barrier.wait()
        try:
            with Session(engine) as session, session.begin():
                record_decision(
                    session=session,
                    proposal_id=sent_any_db.proposal_id,
                    decision=DecisionIn(
                        body_id="ypaja",
                        point=4,
                        outcome=Outcome.hyvaksytty,
                        meeting_date=date(2021, 3, 1),
                        section=section,
                        expected_version=out.version,
                    ),
                )
            results.append("ok")
        except DecisionConflictError:
            results.append("conflict")

    threads = [threading.Thread(target=correct, args=(s,)) for s in (40, 41)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(results) == ["conflict", "ok"]


def test_backup_and_restore_round_trip(sent: Settings, tmp_path: Path) -> None:
    """`council backup` snapshots the live database; `council restore` brings it back, keeping a copy."""
    runner = CliRunner()
    assert (
        runner.invoke(
            app, ["record", "tammela", "3", "hylätty", "--date", "1.2.2021", "--section", "3"]
        ).exit_code
        == 0
    )
    result = runner.invoke(app, ["backup", str(tmp_path / "kopio.db")])
    assert result.exit_code == 0, result.output
    assert (
        runner.invoke(
            app, ["record", "tammela", "4", "hylätty", "--date", "1.2.2021", "--section", "4"]
        ).exit_code
        == 0
    )
    from council.store import engine as db

    db.dispose_engines()
    result = runner.invoke(app, ["restore", str(tmp_path / "kopio.db")])
    assert result.exit_code == 0, result.output
    db.dispose_engines()
    with Session(make_engine(sent.effective_database_url)) as session:
        decided = session.scalars(
            select(Decision.point_number).where(Decision.body_id == "tammela", Decision.outcome.is_not(None))
        ).all()
    assert decided == [3]
    safety = list(
        Path(sent.effective_database_url.removeprefix("sqlite:///")).parent.glob("*.ennen-palautusta-*")
    )
    assert len(safety) == 1
    bad = tmp_path / "roska.db"
    bad.write_text("ei tietokanta")
    result = runner.invoke(app, ["restore", str(bad)])
    assert result.exit_code == 2 and "varmuuskopio" in result.output


def test_smtp_password_never_leaks(env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """With SMTP login on, the password appears in no output file, database row or log line."""
    from aiosmtpd.smtp import AuthResult

    secret = "Salainen-Sana-9f3k"

    def text(value: str | bytes) -> str:
        return value.decode() if isinstance(value, bytes) else value

    def authenticator(server, session, envelope, mechanism, auth_data):  # noqa: ANN001
        return AuthResult(
            success=text(auth_data.login) == "valiokunta" and text(auth_data.password) == secret
        )

    port = free_port()
    controller = Controller(
        EmlHandler(tmp_path / "mail"),
        hostname="127.0.0.1",
        port=port,
        authenticator=authenticator,
        auth_require_tls=False,
    )
    controller.start()
    try:
        env.setenv("COUNCIL_SMTP_HOST", "127.0.0.1")
        env.setenv("COUNCIL_SMTP_PORT", str(port))
        env.setenv("COUNCIL_SMTP_USER", "valiokunta")
        env.setenv("COUNCIL_SMTP_PASSWORD", secret)
        settings = get_settings()
        assert secret not in repr(settings) and secret not in str(settings.model_dump())
        upgrade(settings.effective_database_url)
        runner = CliRunner()
        result = runner.invoke(app, ["send", "--today", "1.3.2021"])
        assert result.exit_code == 0 and "Lähetetty: 6" in result.output, result.output
        result = runner.invoke(app, ["follow-up", "--today", "2099-01-05"])
        assert secret not in result.output
    finally:
        controller.stop()
    assert len(list((tmp_path / "mail").glob("*.eml"))) >= 6
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert secret.encode() not in path.read_bytes(), path
    with sqlite3.connect(settings.effective_database_url.removeprefix("sqlite:///")) as conn:
        assert secret not in "\n".join(conn.iterdump())


@pytest.mark.parametrize("password", ["wrong-password", "väärä"], ids=["wrong", "non-ascii"])
def test_refused_login_keeps_the_batch_queued(env: pytest.MonkeyPatch, tmp_path: Path, password: str) -> None:
    """A wrong (or non-ASCII) SMTP password fails the batch with a configuration hint; all stay queued."""
    from aiosmtpd.smtp import AuthResult

    port = free_port()
    controller = Controller(
        EmlHandler(tmp_path / "mail"),
        hostname="127.0.0.1",
        port=port,
        authenticator=lambda *args: AuthResult(success=False, handled=False),
        auth_require_tls=False,
    )
    controller.start()
    try:
        env.setenv("COUNCIL_SMTP_HOST", "127.0.0.1")
        env.setenv("COUNCIL_SMTP_PORT", str(port))
        env.setenv("COUNCIL_SMTP_USER", "valiokunta")
        env.setenv("COUNCIL_SMTP_PASSWORD", password)
        settings = get_settings()
        upgrade(settings.effective_database_url)
        sync(settings, actor="t")
        pending = prepare_proposal_messages(settings, [], actor="t")
        report = deliver_messages(settings, pending, SmtpMailer(settings), actor="t")
    finally:
        controller.stop()
    assert report.sent == [] and len(report.failed) == 6
    assert all("COUNCIL_SMTP_PASSWORD" in why.error for why in report.failed.values())
    assert {m.state for m in _messages(settings)} == {"queued"}
    assert list((tmp_path / "mail").glob("*.eml")) == []
