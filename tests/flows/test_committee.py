"""committee-digest and dashboard under Prefect's test harness: what the committee reads."""

from __future__ import annotations

import asyncio
import json
import re
from datetime import date, datetime
from pathlib import Path
from uuid import UUID

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from council.config import Settings
from council.delivery.smtpd import LocalSmtpServer
from council.errors import CouncilError
from council.rules.formatting import HELSINKI, fi_date
from council.store.decisions import record_decision
from council.store.engine import make_engine
from flows.committee import DigestIn, committee_digest, dashboard
from models.decisions import DecisionIn
from models.enums import EventKind, Outcome
from models.tables import Event, Message
from tests.helpers import docx_text, read_eml

pytestmark = pytest.mark.prefect

DIGEST_DAY = date(2026, 6, 12)  # Friday of ISO week 24: the week is 6.6.–12.6.2026
NO_CHANGES = "Ei muutoksia tällä viikolla: koostetta ei lähetetty."
COMMITTEE = "hyvinvointivaliokunta@forssanseutu.example, puheenjohtaja@forssanseutu.example"


def _decide(settings: Settings, decisions: list[DecisionIn], *, occurred_at: datetime | None = None) -> None:
    """Record ``decisions``; with ``occurred_at`` their events are back-dated to that moment."""
    with Session(make_engine(settings.effective_database_url)) as session, session.begin():
        for decision in decisions:
            record_decision(session=session, proposal_id=settings.proposal_id, decision=decision)
        if occurred_at is not None:
            session.execute(
                update(Event)
                .where(Event.kind == EventKind.decision_recorded.value)
                .values(occurred_at=occurred_at)
            )


def _tammela_point_1(section: int = 20) -> DecisionIn:
    return DecisionIn(
        body_id="tammela",
        point=1,
        outcome=Outcome.hyvaksytty,
        meeting_date=date(2026, 6, 8),
        section=section,
    )


def _digests(settings: Settings) -> list[tuple[str | None, int, str]]:
    with Session(make_engine(settings.effective_database_url)) as session:
        rows = session.scalars(select(Message).where(Message.kind == "digest").order_by(Message.id))
        return [(m.body_id, m.round, m.state) for m in rows]


# -- committee-digest ---------------------------------------------------------------------------
def test_week_without_changes_sends_no_digest(
    prefect_harness: None, sent: Settings, smtp_server: LocalSmtpServer
) -> None:
    """A decision of the previous week (Wed 3.6.) is not a change of the week ending Fri 12.6."""
    _decide(sent, [_tammela_point_1()], occurred_at=datetime(2026, 6, 3, 10, 0, tzinfo=HELSINKI))
    assert committee_digest(kooste=DigestIn(paiva=fi_date(DIGEST_DAY))) == NO_CHANGES
    assert smtp_server.messages() == []
    assert _digests(sent) == []


def test_change_in_the_week_sends_one_digest_with_the_report(
    prefect_harness: None, sent: Settings, smtp_server: LocalSmtpServer
) -> None:
    """A decision recorded Wed 10.6. gives one digest of week 24 to both committee addresses."""
    _decide(sent, [_tammela_point_1()], occurred_at=datetime(2026, 6, 10, 10, 0, tzinfo=HELSINKI))
    assert committee_digest(kooste=DigestIn(paiva=fi_date(DIGEST_DAY))) == "Viikkokooste lähetetty."
    [mail] = [read_eml(p) for p in smtp_server.messages()]
    assert str(mail["To"]) == COMMITTEE
    assert str(mail["Subject"]) == "Viikkokooste (viikko 24): Järjestöjen ja julkisen sektorin yhteistyömalli (Dnro FSHKY/245/00.04.01/2026)"
    text = mail.get_body(("plain",)).get_content()
    assert "Tammelan kunta, kohta 1: hyväksytty ehdotuksen mukaisesti 8.6.2026 § 20" in text
    [attachment] = list(mail.iter_attachments())
    assert attachment.get_filename() == "Tilannekatsaus_12_6_2026.docx"  # dated by the flow's paiva
    report = sent.outputs / sent.proposal_id / "viikkokooste" / "Tilannekatsaus_12_6_2026.docx"
    assert attachment.get_content() == report.read_bytes()
    assert _digests(sent) == [(None, 202624, "sent")]


def test_second_run_in_the_same_week_sends_nothing_more(
    prefect_harness: None, sent: Settings, smtp_server: LocalSmtpServer
) -> None:
    """After the week's digest, a rerun that week (even after a new change) sends no second digest."""
    _decide(sent, [_tammela_point_1()], occurred_at=datetime(2026, 6, 10, 10, 0, tzinfo=HELSINKI))
    assert committee_digest(kooste=DigestIn(paiva=fi_date(DIGEST_DAY))) == "Viikkokooste lähetetty."
    _decide(
        sent,
        [
            DecisionIn(
                body_id="ypaja", point=2, outcome=Outcome.hyvaksytty, meeting_date=date(2026, 6, 9), section=7
            )
        ],
        occurred_at=datetime(2026, 6, 11, 10, 0, tzinfo=HELSINKI),
    )
    committee_digest(kooste=DigestIn(paiva=fi_date(DIGEST_DAY)))
    assert len(smtp_server.messages()) == 1
    assert _digests(sent) == [(None, 202624, "sent")]


def test_second_run_in_the_same_week_says_the_digest_was_already_sent(
    prefect_harness: None, sent: Settings, smtp_server: LocalSmtpServer
) -> None:
    """The rerun's message tells the coordinator the week's digest already went, not that nothing changed."""
    _decide(sent, [_tammela_point_1()], occurred_at=datetime(2026, 6, 10, 10, 0, tzinfo=HELSINKI))
    assert committee_digest(kooste=DigestIn(paiva=fi_date(DIGEST_DAY))) == "Viikkokooste lähetetty."
    assert committee_digest(kooste=DigestIn(paiva=fi_date(DIGEST_DAY))) == "Viikkokooste oli jo lähetetty."


class RejectAll:
    """An SMTP server that refuses every message for good."""

    async def handle_DATA(self, server, session, envelope):  # noqa: ANN001
        return "554 5.7.1 Message rejected"


def test_failed_digest_delivery_fails_the_run(
    prefect_harness: None, sent: Settings, env: pytest.MonkeyPatch
) -> None:
    """A digest the SMTP server refuses fails the run, on every retry, instead of reporting no changes."""
    from aiosmtpd.controller import Controller

    import flows.committee
    from tests.conftest import free_port

    # The flow's own retry, without its 5 s wait.
    env.setattr(
        flows.committee,
        "send_digest_task",
        flows.committee.send_digest_task.with_options(retries=1, retry_delay_seconds=0),
    )
    _decide(sent, [_tammela_point_1()], occurred_at=datetime(2026, 6, 10, 10, 0, tzinfo=HELSINKI))
    port = free_port()
    controller = Controller(RejectAll(), hostname="127.0.0.1", port=port)
    controller.start()
    env.setenv("COUNCIL_LOCAL_SMTP_PORT", str(port))
    try:
        with pytest.raises(CouncilError, match="^Viikkokoosteen lähetys epäonnistui pysyvästi: .*554"):
            committee_digest(kooste=DigestIn(paiva=fi_date(DIGEST_DAY)))
    finally:
        controller.stop()
    assert _digests(sent) == [(None, 202624, "failed")]


# -- dashboard ----------------------------------------------------------------------------------
def _artifact(flow_run_id: UUID, key: str):  # noqa: ANN202 - prefect Artifact
    """The one artifact ``key`` that flow run ``flow_run_id`` published."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId, ArtifactFilterKey

    async def read():  # noqa: ANN202
        async with get_client() as client:
            return await client.read_artifacts(
                artifact_filter=ArtifactFilter(
                    key=ArtifactFilterKey(any_=[key]), flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id])
                )
            )

    [found] = asyncio.run(read())
    return found


def test_dashboard_returns_the_percent_and_writes_files_and_artifacts(
    prefect_harness: None, sent: Settings
) -> None:
    """3 of 24 cells decided (a tabled one does not count): 12 %, the files, the report and three artifacts.

    The meetings are of 2021 so the decided cells are final (lainvoimainen) whatever today is: the
    dashboard flow has no date parameter.
    """

    def decision(body_id: str, point: int, outcome: Outcome, day: int, section: int) -> DecisionIn:
        return DecisionIn(
            body_id=body_id, point=point, outcome=outcome, meeting_date=date(2021, 3, day), section=section
        )

    _decide(
        sent,
        [
            decision("tammela", 1, Outcome.hyvaksytty, 8, 20),
            decision("tammela", 2, Outcome.hyvaksytty, 8, 21),
            decision("ypaja", 4, Outcome.merkitty_tiedoksi, 9, 7),
            decision("forssa", 3, Outcome.poydalle, 1, 5),
        ],
    )
    state = dashboard(return_state=True)
    result = state.result()
    assert set(result) == {"percent", "report", "reports"} and result["percent"] == 12
    assert result["reports"] == {sent.proposal_id: result["report"]}  # one per active proposal

    report = Path(result["report"])
    assert report.parent == (sent.outputs / sent.proposal_id).resolve()
    assert re.fullmatch(r"Tilannekatsaus_\d{1,2}_\d{1,2}_\d{4}\.docx", report.name)
    assert "Tammelan kunta" in docx_text(report)

    folder = sent.outputs / "dashboard"
    assert (folder / "dashboard.html").is_file()
    board = json.loads((folder / "dashboard.json").read_text(encoding="utf-8"))
    assert board["overall"] == {"decided": 3, "total": 24, "percent": 12}

    run_id, pid = state.state_details.flow_run_id, sent.proposal_id
    table = _artifact(run_id, f"paatokset-{pid}")
    rows = {row["Vastaanottaja"]: row for row in json.loads(table.data)}
    assert len(rows) == 6
    assert rows["Tammelan kunta"]["2. Säännölliset yhteistyömuodot"] == (
        "✅ lainvoimainen: hyväksytty ehdotuksen mukaisesti 8.3.2021 § 21"
    )
    assert rows["Ypäjän kunta"]["4. Järjestötietous"] == "✅ lainvoimainen: merkitty tiedoksi 9.3.2021 § 7"
    assert rows["Forssan kaupunki"]["3. Kehittämisyhteistyön kohdat"] == (
        "📅 esityslistalla: pantu pöydälle 1.3.2021 § 5"
    )
    assert rows["Humppilan kunta"]["1. Järjestöyhdyshenkilö"] == "✉ lähetetty"

    markdown = _artifact(run_id, f"tilanne-{pid}")
    assert "Päätetty **3/24** kohtaa (12 %)" in markdown.data
    assert "| Ypäjän kunta | ✉ lähetetty | ✉ lähetetty | ✉ lähetetty | ✅ lainvoimainen" in markdown.data

    progress = _artifact(run_id, f"edistyminen-{pid}")
    assert float(progress.data) == 12.0
    assert progress.description == "Päätetyt kohdat: 3/24"


def test_dashboard_writes_every_proposal_and_publishes_each_active_ones_artifacts(
    prefect_harness: None, sent: Settings, tmp_path: Path
) -> None:
    """With a second proposal the flow writes both page sets and the index, and publishes the
    progress artifact of each (both are active), the percent returned being the configured one's."""
    from tests.test_dashboard import SECOND, add_second_proposal

    add_second_proposal(sent, tmp_path)
    state = dashboard(return_state=True)
    assert state.result()["percent"] == 0
    folder = sent.outputs / "dashboard"
    index = json.loads((folder / "esitykset.json").read_text(encoding="utf-8"))
    assert {e["proposal_id"] for e in index["proposals"]} == {sent.proposal_id, SECOND}
    assert (folder / "index.html").is_file() and (folder / SECOND / "dashboard.html").is_file()
    run_id = state.state_details.flow_run_id
    assert _artifact(run_id, f"edistyminen-{SECOND}").description == "Päätetyt kohdat: 1/12"
    assert _artifact(run_id, f"edistyminen-{sent.proposal_id}").description == "Päätetyt kohdat: 0/24"
