"""send-proposal under Prefect's test harness, sending to a real SMTP server."""

from __future__ import annotations

import asyncio
import os
import signal
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from prefect.client.orchestration import get_client
from prefect.utilities.callables import parameter_schema
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from council.config import PROJECT_ROOT, Settings, get_settings
from council.delivery.smtpd import LocalSmtpServer
from council.store.engine import make_engine, upgrade
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


@pytest.fixture(params=["forkserver", "fork-server"])
def delivery_parent(request: pytest.FixtureRequest, env: pytest.MonkeyPatch) -> int | None:
    """Where the delivery child comes from: a multiprocessing forkserver of the flow's process
    (None), or the council worker's fork server (its pid), as under `council run`."""
    if request.param == "forkserver":
        env.delenv("COUNCIL_FORK_SOCKET", raising=False)
        return None
    path, pid = request.getfixturevalue("fork_server")
    env.setenv("COUNCIL_FORK_SOCKET", str(path))
    return pid


def test_a_large_send_delivers_in_a_process_of_its_own(
    prefect_harness: None,
    settings: Settings,
    smtp_server: LocalSmtpServer,
    env: pytest.MonkeyPatch,
    delivery_parent: int | None,
) -> None:
    """Three batches or more: delivery runs in a child process beside the rendering. The flow's own
    `deliver_messages` would fail here, so every message delivered came from the child; each body
    gets one email and its cells are `sent`, as from a delivery in the flow's process."""
    import council.services.delivery_process as delivery_process
    import council.services.send as send_module
    import flows.send_proposal as flow_module

    env.setenv("COUNCIL_BATCH_SIZE", "2")  # six bodies, three batches
    start = delivery_process._start

    def not_here(*args: object, **kwargs: object) -> None:
        raise AssertionError("delivered in the flow's process")

    env.setattr(send_module, "deliver_messages", not_here)
    env.setattr(flow_module, "deliver_messages", not_here)
    started = []
    env.setattr(delivery_process, "_start", lambda: started.append(start()) or started[-1])
    result = send_proposal(lahetys=SendProposalIn())
    assert len(result["sent"]) == 6 and result["failed"] == {}
    # from where it was asked for: the worker's fork server, or (none) a forkserver of this process
    expected = delivery_process._PoolChild if delivery_parent is None else delivery_process._ForkedChild
    assert [type(child) for child in started] == [expected]
    assert len(smtp_server.messages()) == 6
    assert {str(read_eml(p)["To"]) for p in smtp_server.messages()} == {
        f"kirjaamo@{b}.example" for b in ("forssa", "humppila", "jokioinen", "tammela", "ypaja", "fshky")
    }
    with Session(make_engine(settings.effective_database_url)) as session:
        assert {m.state for m in session.scalars(select(Message))} == {"sent"}


def test_a_small_send_delivers_in_the_flow_process(
    prefect_harness: None, settings: Settings, smtp_server: LocalSmtpServer, env: pytest.MonkeyPatch
) -> None:
    """Below three batches no process is started (it would cost more than the send)."""
    import flows.send_proposal as flow_module

    started: list[object] = []
    env.setattr(flow_module, "DeliveryProcess", lambda: started.append(1))
    result = send_proposal(lahetys=SendProposalIn())
    assert len(result["sent"]) == 6 and not started


def _delivery_child(deadline: float, fork_server: int | None) -> int:
    """The pid of this process's delivery child: forked by the forkserver this process started, or
    by the council worker's fork server."""
    me = str(os.getpid())
    while time.monotonic() < deadline:
        parents: dict[str, list[str]] = {}
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    ppid = (entry / "stat").read_text().rsplit(")", 1)[1].split()[1]
                except OSError:
                    continue
                parents.setdefault(ppid, []).append(entry.name)
        if fork_server is not None:  # only there: a fallback to a forkserver of ours must not pass
            if children := parents.get(str(fork_server)):
                return int(children[0])
            time.sleep(0.05)
            continue
        for server in parents.get(me, []):
            cmdline = Path(f"/proc/{server}/cmdline").read_bytes()
            if b"forkserver" in cmdline and parents.get(server):
                return int(parents[server][0])
        time.sleep(0.05)
    raise AssertionError("no delivery child found")


def test_closing_a_forked_delivery_child_waits_for_the_call_on_its_channel(
    env: pytest.MonkeyPatch, tmp_path: Path, fork_server: tuple[Path, int]
) -> None:
    """A child is closed (replaced after a failure) while another thread's call is on its channel:
    the close waits for that call, which gets its own answer. A close that went ahead would end
    the call with a broken channel, free the channel's descriptor number for the next child's
    socket pair, and a late write of that call would reach the new child as a stray batch (seen in
    CI: answers went to the wrong calls)."""
    from council.services.delivery_process import _ForkedChild
    from council.services.send import prepare_proposal_messages, sync
    from tests.test_faults import _server

    controller, port = _server(tmp_path / "mail", delay=0.6)
    env.setenv("COUNCIL_LOCAL_SMTP_PORT", str(port))
    settings = get_settings()
    upgrade(settings.effective_database_url)
    sync(settings, actor="t")
    pending = prepare_proposal_messages(settings, ["forssa", "ypaja"], actor="t")
    child = _ForkedChild(str(fork_server[0]))
    reports = []
    caller = threading.Thread(target=lambda: reports.append(child.deliver(settings, pending, "t")))
    try:
        caller.start()
        deadline = time.monotonic() + 60
        while not list((tmp_path / "mail").glob("*.eml")):  # the first of two emails (0.6 s each) is in
            assert time.monotonic() < deadline, "the child delivered nothing"
            time.sleep(0.02)
        child.close(wait=False)  # as when a failed child is replaced: the second is still on its way
        caller.join(30)
    finally:
        controller.stop()
    assert [sorted(r.sent) for r in reports] == [sorted(f"{b}/proposal/0" for b in ("forssa", "ypaja"))]


def test_a_killed_delivery_process_is_replaced_and_nothing_goes_twice(
    prefect_harness: None,
    env: pytest.MonkeyPatch,
    tmp_path: Path,
    database_url: str,
    delivery_parent: int | None,
) -> None:
    """The delivery child is SIGKILLed after the first of six emails: the task's retry delivers the
    rest from a new child, the one in flight waits for the sending lease, and after it a rerun
    sends it with its own Message-ID. Nothing lost, at most that one repeated (SQLite, PostgreSQL)."""
    from tests.test_faults import _server

    controller, port = _server(tmp_path / "mail", delay=0.6)
    env.setenv("COUNCIL_LOCAL_SMTP_PORT", str(port))
    env.setenv("COUNCIL_DATABASE_URL", database_url)
    env.setenv("COUNCIL_BATCH_SIZE", "2")
    settings = get_settings()
    upgrade(settings.effective_database_url)
    killed: list[int] = []

    def kill_after_first_mail() -> None:
        deadline = time.monotonic() + 120
        while not list((tmp_path / "mail").glob("*.eml")) and time.monotonic() < deadline:
            time.sleep(0.02)
        child = _delivery_child(deadline, delivery_parent)
        os.kill(child, signal.SIGKILL)
        killed.append(child)

    killer = threading.Thread(target=kill_after_first_mail, daemon=True)
    try:
        killer.start()
        first = send_proposal(lahetys=SendProposalIn())
        killer.join(10)
        assert killed, "the delivery child was not killed"
        with Session(make_engine(settings.effective_database_url)) as session:
            rows = list(session.scalars(select(Message)))
        assert len(first["sent"]) >= 4 and len(rows) == 6
        assert [m.state for m in rows if m.state != "sent"] in ([], ["sending"])
        # after the 15-minute lease (simulated) a rerun sends the one that was on the wire
        with Session(make_engine(settings.effective_database_url)) as session, session.begin():
            session.execute(update(Message).values(claimed_at=datetime.now(UTC) - timedelta(minutes=16)))
        send_proposal(lahetys=SendProposalIn())
    finally:
        controller.stop()
    with Session(make_engine(settings.effective_database_url)) as session:
        rows = list(session.scalars(select(Message)))
    assert {m.state for m in rows} == {"sent"}
    delivered = Counter(read_eml(p)["Message-ID"] for p in (tmp_path / "mail").glob("*.eml"))
    assert set(delivered) == {m.message_id for m in rows}  # nothing lost
    assert sum(delivered.values()) - 6 <= 1  # at most the one in flight repeats
