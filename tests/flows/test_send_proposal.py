"""send-proposal under Prefect's test harness, sending to a real SMTP server."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import yaml
from prefect.client.orchestration import get_client
from prefect.utilities.callables import parameter_schema
from sqlalchemy import select
from sqlalchemy.orm import Session

from council.config import PROJECT_ROOT, Settings, get_settings
from council.delivery.smtpd import LocalSmtpServer
from council.store.engine import make_engine
from flows.send_proposal import SendProposalIn, send_proposal
from models.enums import MessageKind
from models.tables import Event, Message
from tests.helpers import read_eml

pytestmark = pytest.mark.prefect



def _deployed(flow) -> dict:  # noqa: ANN001
    """The form's schema as `council run` leaves it on the server: choices filled in from the content."""
    from council.config import get_settings
    from council.services.forms import form_choices, with_choices

    return with_choices(parameter_schema(flow).model_dump(), form_choices(get_settings()))

def test_form_shows_finnish_labels_and_official_names() -> None:
    """The deployment form lists bodies by official name with Finnish titles."""
    schema = _deployed(send_proposal)
    model = schema["definitions"]["SendProposalIn"]["properties"]
    assert model["vastaanottajat"]["title"] == "Vastaanottajat"
    assert "Jokioisten kunta" in model["vastaanottajat"]["items"]["enum"]
    assert model["kuivaharjoitus"]["title"] == "Kuivaharjoitus"


async def _artifact_markdown(key: str) -> str:
    async with get_client() as client:
        artifact = await client.read_latest_artifacts()
        match = [a for a in artifact if a.key == key]
        return match[0].data if match else ""


def test_flow_sends_each_body_once_and_publishes_status(
    prefect_harness: None, settings: Settings, smtp_server: LocalSmtpServer
) -> None:
    """The flow sends six messages, a rerun sends none, and the status artifact shows `lähetetty`."""
    first = send_proposal(lahetys=SendProposalIn())
    assert len(first["sent"]) == 6 and first["failed"] == {}
    second = send_proposal(lahetys=SendProposalIn())
    assert second["sent"] == []
    assert len(smtp_server.messages()) == 6
    assert {str(read_eml(p)["To"]) for p in smtp_server.messages()} == {
        f"kirjaamo@{b}.example" for b in ("forssa", "humppila", "jokioinen", "tammela", "ypaja", "fshky")
    }
    markdown = asyncio.run(_artifact_markdown(f"tilanne-{settings.proposal_id}"))
    assert "Jokioisten kunta" in markdown and "lähetetty" in markdown


def test_flow_dry_run_for_one_body_by_official_name(
    prefect_harness: None, settings: Settings, smtp_server: LocalSmtpServer
) -> None:
    """Choosing 'Ypäjän kunta' with dry run writes its documents (and their JHS 143 description) and
    sends nothing."""
    result = send_proposal(lahetys=SendProposalIn(vastaanottajat=["Ypäjän kunta"], kuivaharjoitus=True))
    assert [path.rsplit(".", 1)[1] for path in result["dry_run"]] == ["docx", "docx", "xml"]
    assert all("ypaja" in path for path in result["dry_run"])
    assert smtp_server.messages() == []


def test_smtp_password_stays_out_of_prefect_logs_and_artifacts(
    prefect_harness: None, env: pytest.MonkeyPatch, tmp_path
) -> None:  # noqa: ANN001
    """With SMTP login on, the flow's logs and artifacts never contain the password."""
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId, LogFilter, LogFilterFlowRunId

    from council.config import get_settings
    from council.delivery.smtpd import EmlHandler
    from council.store.engine import upgrade
    from tests.conftest import free_port

    secret = "Prefect-Loki-Salasana-7q"
    port = free_port()
    controller = Controller(
        EmlHandler(tmp_path / "mail"),
        hostname="127.0.0.1",
        port=port,
        auth_require_tls=False,
        authenticator=lambda *args: AuthResult(success=True),
    )
    controller.start()
    try:
        for key, value in {
            "COUNCIL_SMTP_HOST": "127.0.0.1",
            "COUNCIL_SMTP_PORT": str(port),
            "COUNCIL_SMTP_USER": "valiokunta",
            "COUNCIL_SMTP_PASSWORD": secret,
        }.items():
            env.setenv(key, value)
        upgrade(get_settings().effective_database_url)
        state = send_proposal(lahetys=SendProposalIn(vastaanottajat=["Ypäjän kunta"]), return_state=True)
    finally:
        controller.stop()
    assert state.is_completed()

    async def everything() -> str:
        async with get_client() as client:
            run_id = state.state_details.flow_run_id
            logs = await client.read_logs(log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[run_id])))
            artifacts = await client.read_artifacts(
                flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[run_id]))
            )
            run = await client.read_flow_run(run_id)
        return "\n".join(
            [*(log.message for log in logs), *(str(a.data) for a in artifacts), str(run.parameters)]
        )

    text = asyncio.run(everything())
    assert "Ypäjän kunta" in text or "ypaja" in text
    assert secret not in text


def test_batches_are_pipelined_and_a_corrected_address_is_sent_on_the_rerun(
    prefect_harness: None, settings: Settings, env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Batch size 2 (three batches, each delivered while the next renders): five bodies are sent and
    Ypäjä's refused address fails the run by name. After the address is corrected in the roster, the
    rerun sends Ypäjä's proposal to the new address and nobody else's again."""
    from aiosmtpd.controller import Controller

    from tests.conftest import free_port
    from tests.test_sending import RefuseYpaja

    port = free_port()
    controller = Controller(RefuseYpaja(), hostname="127.0.0.1", port=port)
    controller.start()
    env.setenv("COUNCIL_LOCAL_SMTP_PORT", str(port))
    env.setenv("COUNCIL_BATCH_SIZE", "2")
    try:
        with pytest.raises(RuntimeError, match=r"Osa viesteistä jäi lähettämättä: ypaja/proposal/0: .*550"):
            send_proposal(lahetys=SendProposalIn())
        assert _outbox() == {**{b: ("sent", 1) for b in OTHERS}, "ypaja": ("failed", 1)}
        assert _alerts() == 1  # the failed run told the coordinator, once

        roster = yaml.safe_load((PROJECT_ROOT / "data/rosters/forssan-seutu.yaml").read_text("utf-8"))
        next(b for b in roster["bodies"] if b["id"] == "ypaja")["registry_email"] = "kirjaamo@ypj.example"
        corrected = tmp_path / "roster.yaml"
        corrected.write_text(yaml.safe_dump(roster, allow_unicode=True, sort_keys=False), "utf-8")
        env.setenv("COUNCIL_ROSTER_FILE", str(corrected))
        rerun = send_proposal(lahetys=SendProposalIn())
    finally:
        controller.stop()
    assert rerun["sent"] == ["ypaja/proposal/0"] and rerun["failed"] == {}
    assert _outbox() == {**{b: ("sent", 1) for b in OTHERS}, "ypaja": ("sent", 1)}
    with Session(make_engine(get_settings().effective_database_url)) as session:
        ypaja = session.scalars(select(Message).where(Message.body_id == "ypaja")).one()
        requeued = [
            e.data["requeued"]
            for e in session.scalars(
                select(Event).where(Event.body_id == "ypaja", Event.kind == "message_queued")
            )
            if "requeued" in e.data
        ]
    assert ypaja.recipients[0] == "kirjaamo@ypj.example"
    assert len(requeued) == 1 and "550" in requeued[0]["previous_error"]
    assert requeued[0]["previous_message_id"] != ypaja.message_id


OTHERS = ("forssa", "humppila", "jokioinen", "tammela", "fshky")


def _outbox() -> dict[str, tuple[str, int]]:
    """The bodies' messages: state and attempts (the coordinator's run-failed alert aside)."""
    with Session(make_engine(get_settings().effective_database_url)) as session:
        messages = session.scalars(select(Message).where(Message.kind != MessageKind.run_failed.value))
        return {m.body_id: (m.state, m.attempts) for m in messages}


def _alerts() -> int:
    """How many run-failed alerts the coordinator was sent."""
    with Session(make_engine(get_settings().effective_database_url)) as session:
        return len(session.scalars(select(Message).where(Message.kind == MessageKind.run_failed.value)).all())


def test_a_rendering_failure_still_reports_the_batch_in_flight(
    prefect_harness: None, settings: Settings, smtp_server: LocalSmtpServer, env: pytest.MonkeyPatch
) -> None:
    """Batch 2 fails to render while batch 1 is being delivered: the run fails with the rendering
    error, batch 1 is delivered and recorded, and the status files are refreshed anyway."""
    from prefect import task

    import flows.send_proposal as module
    from council.services.send import prepare_proposal_messages

    env.setenv("COUNCIL_BATCH_SIZE", "3")
    calls: list[list[str]] = []

    @task(name="prepare-batch")
    def failing_second(batch: list[str]) -> list[int]:
        calls.append(batch)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        return prepare_proposal_messages(get_settings(), batch, actor="test")

    env.setattr(module, "prepare_batch", failing_second)
    dashboard = get_settings().outputs / "dashboard" / "dashboard.json"
    with pytest.raises(OSError, match="No space left"):
        send_proposal(lahetys=SendProposalIn())
    assert len(calls) == 2 and len(smtp_server.messages()) == 3 + 1  # batch 1, and the coordinator told
    assert _outbox() == {b: ("sent", 1) for b in calls[0]} and _alerts() == 1
    assert dashboard.is_file()
