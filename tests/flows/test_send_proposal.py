"""send-proposal under Prefect's test harness, sending to a real SMTP server."""

from __future__ import annotations

import asyncio

import pytest
from prefect.client.orchestration import get_client
from prefect.utilities.callables import parameter_schema

from council.config import Settings
from council.smtpd import LocalSmtpServer
from flows.send_proposal import SendProposalIn, send_proposal
from tests.helpers import read_eml

pytestmark = pytest.mark.prefect


def test_form_shows_finnish_labels_and_official_names() -> None:
    """The deployment form lists bodies by official name with Finnish titles."""
    schema = parameter_schema(send_proposal).model_dump()
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
    """Choosing 'Ypäjän kunta' with dry run writes its documents and sends nothing."""
    result = send_proposal(lahetys=SendProposalIn(vastaanottajat=["Ypäjän kunta"], kuivaharjoitus=True))
    assert len(result["dry_run"]) == 2
    assert all("ypaja" in path for path in result["dry_run"])
    assert smtp_server.messages() == []
