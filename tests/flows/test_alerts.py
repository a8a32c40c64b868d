"""A failed run tells the coordinator once, by email through the outbox; a refused run does not."""

from __future__ import annotations

import asyncio

import pytest
from prefect import flow
from prefect.client.orchestration import get_client
from sqlalchemy import select
from sqlalchemy.orm import Session

from council.config import Settings
from council.delivery.smtpd import LocalSmtpServer
from council.store.engine import make_engine
from flows.common import ON_FAILURE, notify_coordinator, refuse
from models.enums import MessageKind
from models.results import Refusal
from models.tables import Message
from tests.helpers import read_eml

pytestmark = pytest.mark.prefect


@flow(name="kokeiluajo", **ON_FAILURE)
def breaks() -> None:
    raise RuntimeError("SMTP-palvelin ei vastaa (yhteys katkesi)")


@flow(name="hylatty-ajo", **ON_FAILURE)
def refused():  # noqa: ANN201 - a Prefect state
    return refuse(Refusal(what_happened="Kokouspäivä on tulevaisuudessa.", what_to_do="Korjaa päivä."))


def _alerts(settings: Settings) -> list[Message]:
    with Session(make_engine(settings.effective_database_url)) as session:
        return list(session.scalars(select(Message).where(Message.kind == MessageKind.run_failed.value)))


def test_a_failed_run_emails_the_coordinator_once(
    prefect_harness: None, sent: Settings, smtp_server: LocalSmtpServer, env: pytest.MonkeyPatch
) -> None:
    """A run that fails (not for bad input) sends one Finnish email with what failed and what to
    do; calling the hook again for the same run sends nothing more."""
    env.setenv("COUNCIL_COORDINATOR_EMAIL", "koordinaattori@forssanseutu.example")
    before = len(smtp_server.messages())
    state = breaks(return_state=True)
    assert state.is_failed()
    [alert] = _alerts(sent)
    assert alert.state == "sent" and alert.body_id is None
    [path] = smtp_server.messages()[before:]
    mail = read_eml(path)
    assert mail["To"] == "koordinaattori@forssanseutu.example"
    assert mail["Subject"].startswith("Ajo epäonnistui: kokeiluajo")
    text = mail.get_body(preferencelist=("plain",)).get_content()
    assert "SMTP-palvelin ei vastaa" in text and "Mitä tehdä:" in text and "/runs/flow-run/" in text
    assert "Flow run encountered" not in text and "RuntimeError" not in text

    # the hook again for the same run (a retried hook): the outbox key holds it to one email
    async def read_run():  # noqa: ANN202
        async with get_client() as client:
            return await client.read_flow_run(state.state_details.flow_run_id)

    notify_coordinator(breaks, asyncio.run(read_run()), state)
    assert len(_alerts(sent)) == 1 and len(smtp_server.messages()) == before + 1


def test_a_refused_run_sends_nothing(
    prefect_harness: None, sent: Settings, smtp_server: LocalSmtpServer
) -> None:
    """Bad input is the coordinator's own to fix, shown in the run itself: no email."""
    before = len(smtp_server.messages())
    assert refused(return_state=True).is_failed()
    assert _alerts(sent) == [] and len(smtp_server.messages()) == before
