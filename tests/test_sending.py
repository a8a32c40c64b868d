"""Sending the proposal through a real SMTP server: one message per body, never twice."""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from council.config import Settings, get_settings
from council.delivery.mail import SmtpMailer
from council.delivery.smtpd import LocalSmtpServer
from council.errors import ConfigurationError
from council.rules.formatting import HELSINKI, fi_date
from council.services.send import deliver_messages, dry_run, prepare_proposal_messages, sync
from council.store.engine import make_engine, upgrade
from council.store.tracking import status_matrix
from models.enums import DecisionStatus, MessageState
from models.tables import Decision, Event, Message
from tests.conftest import free_port
from tests.helpers import read_eml

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def send_all(settings: Settings, body_ids: list[str] | None = None):
    sync(settings, actor="test")
    pending = prepare_proposal_messages(settings, body_ids or [], actor="test")
    return deliver_messages(settings, pending, SmtpMailer(settings), actor="test")


def _count(settings: Settings, stmt) -> int:
    with Session(make_engine(settings.effective_database_url)) as session:
        return session.scalar(stmt)


def test_each_body_gets_one_strictly_valid_message_with_both_attachments(
    settings: Settings, smtp_server: LocalSmtpServer
) -> None:
    """Six bodies, six .eml files; each parses strictly and carries both DOCX with Finnish names and
    their JHS 143 description; the subject and the text give the Dnro, the reply-by date, the contact
    person and the numbered attachments."""
    report = send_all(settings)
    assert len(report.sent) == 6 and not report.failed
    mails = smtp_server.messages()
    assert len(mails) == 6
    ids = set()
    by_to = {}
    for path in mails:
        msg = read_eml(path)
        ids.add(msg["Message-ID"])
        by_to[str(msg["To"])] = msg
        # dated in Helsinki time, as a Finnish office's mail client would date it
        offset = msg["Date"].datetime.utcoffset().total_seconds() / 3600
        assert offset in (2, 3), msg["Date"]
        attachments = list(msg.iter_attachments())
        assert [a.get_content_type() for a in attachments] == [DOCX, DOCX, "application/xml"]
        assert [a.get_filename().rsplit(".", 1)[1] for a in attachments] == ["docx", "docx", "xml"]
    assert len(ids) == 6
    jokioinen = by_to["kirjaamo@jokioinen.example"]
    assert [a.get_filename() for a in jokioinen.iter_attachments()] == [
        "Esitys_Jokioisten_kunta.docx",
        "Järjestöyhdyshenkilön_toimenkuva_Jokioisten_kunta.docx",
        "Kuvailutiedot_Esitys_Jokioisten_kunta.xml",
    ]
    assert "Jokioisten kunnanhallitus" in jokioinen["Subject"]
    assert jokioinen["Subject"].endswith("(Dnro FSHKY/245/00.04.01/2026)")
    text = jokioinen.get_body(("plain",)).get_content()
    assert "Jokioisten kunnan päätöksentekoa" in text
    sent_on = jokioinen["Date"].datetime.astimezone(HELSINKI).date()
    reply_by = fi_date(sent_on + timedelta(days=90))  # the seed's reminder_policy.deadline_days
    assert "Lähettäjän diaarinumero: Dnro FSHKY/245/00.04.01/2026" in text
    assert f"Vastausta pyydetään viimeistään: {reply_by}" in text
    assert "Yhteyshenkilö: Järjestökoordinaattori Niina Salo-Lehtinen" in text
    assert "Viite" not in text  # no case number of theirs yet
    assert "Liite 1: Esitys – Esitys_Jokioisten_kunta.docx" in text
    assert "Liite 3: Kuvailutiedot (JHS 143, XML) – Kuvailutiedot_Esitys_Jokioisten_kunta.xml" in text
    html = jokioinen.get_body(("html",)).get_content()
    assert f"<strong>{reply_by}</strong>" in html and "Liite 2: Järjestöyhdyshenkilön toimenkuva" in html
    ypaja = by_to["kirjaamo@ypaja.example"]
    assert "Esitys_Ypäjän_kunta.docx" in [a.get_filename() for a in ypaja.iter_attachments()]


def test_status_becomes_sent_with_events(settings: Settings) -> None:
    """After sending, every cell is `sent` and each change has an event with old and new value."""
    send_all(settings, ["jokioinen"])
    with Session(make_engine(settings.effective_database_url)) as session:
        matrix = status_matrix(session=session, proposal_id=settings.proposal_id)
        events = session.scalars(select(Event).where(Event.kind == "status_changed")).all()
    rows = {r.body_id: [c.status for c in r.cells] for r in matrix.bodies}
    assert rows["jokioinen"] == [DecisionStatus.sent] * 4
    assert rows["forssa"] == [DecisionStatus.not_sent] * 4
    assert sorted(e.point_number for e in events) == [1, 2, 3, 4]
    assert all(e.data["old"] == "not_sent" and e.data["new"] == "sent" for e in events)


def test_running_twice_sends_nothing_more(settings: Settings, smtp_server: LocalSmtpServer) -> None:
    """A second send finds every message sent and queues nothing."""
    send_all(settings)
    again = send_all(settings)
    assert again.sent == [] and len(smtp_server.messages()) == 6
    assert _count(settings, select(func.count()).select_from(Message)) == 6


def test_concurrent_deliveries_send_each_message_once(
    settings: Settings, smtp_server: LocalSmtpServer
) -> None:
    """Two senders given the same queued messages at once deliver each exactly once."""
    sync(settings, actor="test")
    pending = prepare_proposal_messages(settings, [], actor="test")
    reports = []
    threads = [
        threading.Thread(
            target=lambda: reports.append(
                deliver_messages(settings, pending, SmtpMailer(get_settings()), actor="t")
            )
        )
        for _ in range(2)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(len(r.sent) + len(r.skipped) for r in reports) == [6, 6]
    assert sum(len(r.sent) for r in reports) == 6
    assert len(smtp_server.messages()) == 6


def test_smtp_down_keeps_messages_queued_then_delivers_once(env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """With no SMTP server the messages stay queued with the error; later each goes exactly once."""
    port = free_port()
    env.setenv("COUNCIL_LOCAL_SMTP_PORT", str(port))
    settings = get_settings()
    upgrade(settings.effective_database_url)
    report = send_all(settings, ["forssa", "ypaja"])
    assert report.sent == [] and len(report.failed) == 2
    with Session(make_engine(settings.effective_database_url)) as session:
        rows = session.scalars(select(Message)).all()
        assert {m.state for m in rows} == {MessageState.queued.value}
        assert all("yhteyttä" in (m.last_error or "") and m.attempts == 1 for m in rows)
        cells = session.scalars(select(Decision.status).where(Decision.body_id == "forssa")).all()
        assert set(cells) == {"not_sent"}
    with LocalSmtpServer(tmp_path / "mail", port=port) as server:
        assert len(send_all(settings, ["forssa", "ypaja"]).sent) == 2
        assert send_all(settings, ["forssa", "ypaja"]).sent == []
        assert len(server.messages()) == 2


class RefuseYpaja:
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: ANN001
        if "ypaja" in address:
            return "550 5.1.1 Mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: ANN001
        return "250 OK"


def test_refused_recipient_is_recorded_as_failed(env: pytest.MonkeyPatch) -> None:
    """A 550 for one recipient marks that message failed with the server's answer; others go."""
    port = free_port()
    controller = Controller(RefuseYpaja(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        env.setenv("COUNCIL_LOCAL_SMTP_PORT", str(port))
        settings = get_settings()
        upgrade(settings.effective_database_url)
        report = send_all(settings, ["forssa", "ypaja"])
    finally:
        controller.stop()
    assert report.sent == ["forssa/proposal/0"]
    with Session(make_engine(settings.effective_database_url)) as session:
        failed = session.scalars(select(Message).where(Message.body_id == "ypaja")).one()
    assert failed.state == MessageState.failed.value
    assert "550" in failed.last_error and "kirjaamo@ypaja.example" in failed.last_error


def test_smtp_user_without_password_is_refused_not_prompted(env: pytest.MonkeyPatch) -> None:
    """yagmail would ask keyring or the terminal; we refuse with a clear configuration error."""
    env.setenv("COUNCIL_SMTP_HOST", "smtp.example")
    env.setenv("COUNCIL_SMTP_USER", "valiokunta@forssanseutu.example")
    with pytest.raises(ConfigurationError, match="COUNCIL_SMTP_PASSWORD"):
        SmtpMailer(get_settings())


def test_dry_run_writes_mail_files_and_stores_nothing(settings: Settings) -> None:
    """A dry run renders documents and .eml files under outputs/dry-run and leaves the database empty."""
    files = dry_run(settings, ["tammela"])
    assert len(files) == 3 and all(f.exists() for f in files)
    emls = list((settings.outputs / "dry-run" / "mail").glob("*.eml"))
    assert len(emls) == 1
    assert read_eml(emls[0])["To"] == "kirjaamo@tammela.example"
    assert _count(settings, select(func.count()).select_from(Message)) == 0


@pytest.mark.postgres
def test_send_on_postgresql(env: pytest.MonkeyPatch, postgres_url: str, smtp_server: LocalSmtpServer) -> None:
    """The same send, rerun and status work with the database on PostgreSQL."""
    env.setenv("COUNCIL_DATABASE_URL", postgres_url)
    env.setenv("COUNCIL_LOCAL_SMTP_PORT", str(smtp_server.port))
    settings = get_settings()
    upgrade(settings.effective_database_url)
    assert len(send_all(settings).sent) == 6
    assert send_all(settings).sent == []
    assert len(smtp_server.messages()) == 6
    assert _count(settings, select(func.count()).select_from(Decision).where(Decision.status == "sent")) == 24


class GreylistOnce:
    """Answers 450 to every recipient of the first connection attempt of each address, then accepts."""

    def __init__(self) -> None:
        self.seen: set[str] = set()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: ANN001
        if address not in self.seen:
            self.seen.add(address)
            return "450 4.2.0 Greylisted, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: ANN001
        return "250 OK"


def test_greylisted_recipients_stay_queued_and_go_on_the_next_try(env: pytest.MonkeyPatch) -> None:
    """A 450 for every recipient is temporary: the message stays queued, the next run delivers it once."""
    port = free_port()
    handler = GreylistOnce()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        env.setenv("COUNCIL_LOCAL_SMTP_PORT", str(port))
        settings = get_settings()
        upgrade(settings.effective_database_url)
        first = send_all(settings, ["ypaja"])
        with Session(make_engine(settings.effective_database_url)) as session:
            row = session.scalars(select(Message).where(Message.body_id == "ypaja")).one()
            assert (row.state, row.attempts) == (MessageState.queued.value, 1)
            assert "450" in row.last_error
        second = send_all(settings, ["ypaja"])
    finally:
        controller.stop()
    assert first.sent == [] and second.sent == ["ypaja/proposal/0"]


class RefuseBad:
    """Refuses (550) every address at the host bad.example; accepts the rest and notes who got what."""

    def __init__(self) -> None:
        self.received: list[list[str]] = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: ANN001
        if address.endswith("@bad.example"):
            return "550 5.1.1 No such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: ANN001
        self.received.append(list(envelope.rcpt_tos))
        return "250 OK"


def _roster_with_ypaja(env: pytest.MonkeyPatch, tmp_path: Path, **fields: object) -> None:
    """Point COUNCIL_ROSTER_FILE at a copy of the roster with Ypäjä's ``fields`` replaced."""
    import yaml

    from council.config import PROJECT_ROOT

    roster = yaml.safe_load((PROJECT_ROOT / "data/rosters/forssan-seutu.yaml").read_text("utf-8"))
    next(b for b in roster["bodies"] if b["id"] == "ypaja").update(fields)
    path = tmp_path / f"roster-{len(list(tmp_path.glob('roster-*.yaml')))}.yaml"
    path.write_text(yaml.safe_dump(roster, allow_unicode=True, sort_keys=False), "utf-8")
    env.setenv("COUNCIL_ROSTER_FILE", str(path))


def test_a_partly_delivered_message_is_not_sent_again(env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The registry accepted Ypäjä's proposal and its contact's address was refused: the message is
    failed, but a later `council send` does not send it again (the registry has it) and says so."""
    from typer.testing import CliRunner

    from council.cli.commands import app
    from council.store.outbox import never_delivered

    port = free_port()
    handler = RefuseBad()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        env.setenv("COUNCIL_LOCAL_SMTP_PORT", str(port))
        _roster_with_ypaja(env, tmp_path, contacts=["vaara@bad.example"])
        settings = get_settings()
        upgrade(settings.effective_database_url)
        first = send_all(settings, ["ypaja"])
        assert first.sent == [] and "ypaja/proposal/0" in first.failed
        with Session(make_engine(settings.effective_database_url)) as session:
            row = session.scalars(select(Message).where(Message.body_id == "ypaja")).one()
            assert row.state == MessageState.failed.value
            assert "saattoi mennä osalle vastaanottajista" in row.last_error
            assert not never_delivered(session=session, message=row)
            first_id = row.message_id
        _roster_with_ypaja(env, tmp_path, contacts=["oikea@ypaja.example"])  # corrected
        result = CliRunner().invoke(app, ["send", "--body", "ypaja"])
    finally:
        controller.stop()
    assert result.exit_code == 1, result.output
    assert "ypaja/proposal/0" in result.output and "saattoi mennä osalle" in result.output
    with Session(make_engine(settings.effective_database_url)) as session:
        row = session.scalars(select(Message).where(Message.body_id == "ypaja")).one()
    assert (row.state, row.message_id, row.attempts) == (MessageState.failed.value, first_id, 1)
    assert handler.received == [["kirjaamo@ypaja.example"]]  # the registry got it once, not twice


def test_a_message_refused_to_everyone_is_sent_again_after_the_fix(
    env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Every recipient refused (nobody got it): after the address is corrected `council send` sends
    it, to the new address only, with a new Message-ID."""
    from typer.testing import CliRunner

    from council.cli.commands import app
    from council.store.outbox import never_delivered

    port = free_port()
    handler = RefuseBad()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        env.setenv("COUNCIL_LOCAL_SMTP_PORT", str(port))
        _roster_with_ypaja(env, tmp_path, registry_email="kirjaamo@bad.example")
        settings = get_settings()
        upgrade(settings.effective_database_url)
        assert "ypaja/proposal/0" in send_all(settings, ["ypaja"]).failed
        with Session(make_engine(settings.effective_database_url)) as session:
            row = session.scalars(select(Message).where(Message.body_id == "ypaja")).one()
            assert row.state == MessageState.failed.value and never_delivered(session=session, message=row)
            first_id = row.message_id
        _roster_with_ypaja(env, tmp_path, registry_email="kirjaamo@ypaja.example")  # corrected
        result = CliRunner().invoke(app, ["send", "--body", "ypaja"])
    finally:
        controller.stop()
    assert result.exit_code == 0, result.output
    assert "Lähetetty: 1" in result.output
    assert handler.received == [["kirjaamo@ypaja.example"]]
    with Session(make_engine(settings.effective_database_url)) as session:
        row = session.scalars(select(Message).where(Message.body_id == "ypaja")).one()
    assert row.state == MessageState.sent.value and row.message_id != first_id
