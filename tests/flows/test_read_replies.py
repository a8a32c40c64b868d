"""read-replies under Prefect's test harness: the drop folder's replies read once, the case number
stored; a scheduled run with nothing received yet makes the folder and reports nothing new."""

from __future__ import annotations

from email.message import EmailMessage

import pytest
import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from council.cli.commands import app
from council.config import PROJECT_ROOT, Settings
from council.delivery.smtpd import LocalSmtpServer
from council.store.engine import make_engine
from flows.replies import read_replies_flow
from models.tables import Message, Recipient

pytestmark = pytest.mark.prefect


def test_a_reply_in_the_drop_folder_is_read_once(
    prefect_harness: None, settings: Settings, smtp_server: LocalSmtpServer
) -> None:
    assert not settings.inbox_dir.exists()
    first = read_replies_flow()  # nothing received yet: the folder is made, nothing is read
    assert settings.inbox_dir.is_dir() and first["matched"] == [] and first["already_read"] == 0

    assert CliRunner().invoke(app, ["send", "--today", "1.3.2021"]).exit_code == 0
    engine = make_engine(settings.effective_database_url)
    with Session(engine) as session:
        ours = session.scalar(select(Message.message_id).where(Message.body_id == "jokioinen"))
    reply = EmailMessage()
    reply["From"] = "Jokioisten kunnan kirjaamo <kirjaamo@jokioinen.example>"
    reply["To"] = "hyvinvointivaliokunta@forssanseutu.example"
    reply["Subject"] = "Re: Esitys (Dnro FSHKY/245/00.04.01/2026)"
    reply["Message-ID"] = "<kuittaus-7@jokioinen.example>"
    reply["In-Reply-To"] = ours
    reply.set_content("Kirjattu saapuneeksi.\nAsianumero: JOK/45/00.01.02/2026\n")
    (settings.inbox_dir / "kuittaus.eml").write_bytes(reply.as_bytes())

    result = read_replies_flow()
    assert result["matched"] == ["Jokioisten kunta: asianumero JOK/45/00.01.02/2026"]
    with Session(engine) as session:
        stored = session.scalar(select(Recipient.case_number).where(Recipient.body_id == "jokioinen"))
    assert stored == "JOK/45/00.01.02/2026"  # not the committee's own Dnro quoted in the subject
    again = read_replies_flow()
    assert again["matched"] == [] and again["already_read"] == 1


def test_the_deployment_reads_the_mailbox_every_15_minutes() -> None:
    config = yaml.safe_load((PROJECT_ROOT / "prefect.yaml").read_text(encoding="utf-8"))
    [deployment] = [d for d in config["deployments"] if d["name"] == "read-replies"]
    assert deployment["entrypoint"] == "flows/replies.py:read_replies_flow"
    [schedule] = deployment["schedules"]
    assert schedule["interval"] == 900 and schedule["active"] and schedule["anchor_date"]


def test_a_mailbox_that_stops_answering_alerts_once_and_the_folder_is_still_read(
    prefect_harness: None, settings: Settings, env: pytest.MonkeyPatch
) -> None:
    """Nothing listens on the mailbox's port: the first run fails (the coordinator's one alert),
    the runs after it complete with the warning, and the drop folder is read every time."""
    from tests.conftest import free_port

    env.setenv("COUNCIL_IMAP_HOST", "127.0.0.1")
    env.setenv("COUNCIL_IMAP_PORT", str(free_port()))
    env.setenv("COUNCIL_IMAP_USER", "valiokunta")
    env.setenv("COUNCIL_IMAP_PASSWORD", "salasana")
    env.setenv("COUNCIL_IMAP_TIMEOUT", "2")
    settings.inbox_dir.mkdir(parents=True, exist_ok=True)
    reply = EmailMessage()
    reply["From"] = "kirjaamo@tammela.example"
    reply["Subject"] = "Vastaanottokuittaus, asianumero TAM/5/2026"
    reply["Message-ID"] = "<k-1@tammela.example>"
    reply.set_content("Kirjattu.")
    (settings.inbox_dir / "k1.eml").write_bytes(reply.as_bytes())

    first = read_replies_flow(return_state=True)
    assert first.is_failed() and "127.0.0.1" in first.message
    second = read_replies_flow()
    assert "127.0.0.1" in second["mailbox_error"]
    assert second["already_read"] == 1  # the first run read the folder although it failed
    with Session(make_engine(settings.effective_database_url)) as session:
        from models.tables import Event

        readings = session.scalars(select(Event.kind).where(Event.kind.like("mailbox_%"))).all()
    assert readings == ["mailbox_failed", "mailbox_failed"]

    # the dashboard index says so instead of going silently stale
    import json

    from council.config import get_settings
    from council.services.committee import write_dashboard_files

    assert CliRunner().invoke(app, ["init"]).exit_code == 0
    write_dashboard_files(get_settings())
    index = settings.dashboard_dir / "index.html"
    page = index.read_text(encoding="utf-8")
    assert "Postilaatikko 127.0.0.1 ei vastaa" in page and "palvelimeen ei saada yhteyttä" in page
    mailbox = json.loads((settings.dashboard_dir / "esitykset.json").read_text(encoding="utf-8"))["mailbox"]
    assert mailbox["ok"] is False and mailbox["last_ok"] is None and mailbox["failing_since"]
