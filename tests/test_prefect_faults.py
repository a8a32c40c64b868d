"""Prefect faults on the real stack (`council run --no-send`, see tests/browser/prefect_stack.py).

1. The Prefect server is killed in the middle of a send and started again on the same port with the
   same environment (same PREFECT_HOME, so the same server database). The SMTP server is a slow
   aiosmtpd catcher of the test's own (one second per message), so the flow run is mid-batch when
   the server goes away. Two supervisors are tried:

   - ``council-run``: the stack exactly as `make run` runs it. `council run` notices the dead
     server and starts it again on the same port and state (at most three times in ten minutes);
     the worker, and so the flow run, live on, the run's Prefect client retries until the server
     answers, and the run COMPLETES.
   - ``separate-units``: the same server and worker commands, with the same environments, run as
     separate services (as systemd units would run them), so the worker outlives the server. The
     flow run goes on sending while the server is away, its Prefect client retries until the
     restarted server answers, and the run COMPLETES.

   Every body gets its email, each Message-ID once (the outbox claims, not Prefect, guarantee it).

2. Basic authentication and CSRF protection on the Prefect server: anonymous calls are refused,
   the CLI, the worker and the flow run authenticate from the environment `council run` passes
   through, and the password is written nowhere.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import create_engine, select, update
from sqlalchemy.orm import Session

from council.config import PROJECT_ROOT
from council.delivery.smtpd import EmlHandler
from models.tables import Message
from tests.browser.prefect_stack import CouncilStack, _sigint_not_ignored
from tests.conftest import free_port
from tests.helpers import process_parent, process_running, read_eml

pytestmark = pytest.mark.e2e

BODIES = 6
DEPLOYMENT = "send-proposal/send-proposal"
FINAL = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}
PREFECT = str(Path(sys.executable).parent / "prefect")
#: The worker `council run` starts (`python -m council.worker --pool council --name council-1`);
#: its fork server, each flow run's process and their children are `council.worker.*`.
WORKER = "council.worker --pool"


# -- a slow SMTP server ------------------------------------------------------------------------
class SlowEmlHandler(EmlHandler):
    """Keeps each message as .eml like the local catcher, one second after its DATA arrived."""

    async def handle_DATA(self, server, session, envelope):  # noqa: ANN001
        await asyncio.sleep(1.0)
        return await super().handle_DATA(server, session, envelope)


@contextmanager
def slow_smtp(folder: Path) -> Iterator[int]:
    port = free_port()
    controller = Controller(SlowEmlHandler(folder), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port
    finally:
        controller.stop()


# -- processes ---------------------------------------------------------------------------------
class Units:
    """Processes the test starts itself, each in its own session; stopped workers first, then servers."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.procs: list[tuple[str, subprocess.Popen]] = []

    def start(self, name: str, argv: list[str], env: dict[str, str]) -> subprocess.Popen:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        with open(self.log_dir / f"{name}.log", "ab") as log, _sigint_not_ignored():
            proc = subprocess.Popen(
                argv, env=env, cwd=PROJECT_ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        self.procs.append((name, proc))
        return proc

    def stop(self) -> None:
        ordered = sorted(reversed(self.procs), key=lambda item: "worker" not in item[0])
        for _, proc in ordered:
            if proc.poll() is None:
                with suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    with suppress(ProcessLookupError):
                        os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait(timeout=10)


def stack_pid(stack: CouncilStack, needle: str) -> int | None:
    """The process of this stack (state folder in its environment) whose command line contains ``needle``."""
    return next((pid for pid, cmd in stack.leftovers() if needle in cmd), None)


def snapshot(pid: int) -> tuple[list[str], dict[str, str]]:
    """Command line and environment of a running process, to start the very same command again."""
    argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[:-1]
    environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    env = dict(item.decode().split("=", 1) for item in environ if b"=" in item)
    return [a.decode() for a in argv], env


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout:.0f} s")
        time.sleep(0.2)


def wait_healthy(stack: CouncilStack, proc: subprocess.Popen | None, timeout: float = 180) -> None:
    """Wait for /api/health; ``proc`` is the server process when the test started it itself."""

    def healthy() -> bool:
        if proc is not None:
            assert proc.poll() is None, f"the Prefect server exited ({proc.returncode}):\n{stack.log_tail()}"
        try:
            return httpx.get(f"{stack.api_url}/health", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    wait_until(healthy, timeout, "Prefect server /api/health")


# -- Prefect API -------------------------------------------------------------------------------
def create_run(
    api: httpx.Client, headers: dict[str, str] | None = None, deployment_name: str = DEPLOYMENT
) -> str:
    deployment = api.get(f"/deployments/name/{deployment_name}")
    deployment.raise_for_status()
    # Like Prefect's own client, retry a 503 (the server's database briefly busy on a loaded machine).
    for attempt in range(5):
        created = api.post(
            f"/deployments/{deployment.json()['id']}/create_flow_run", json={}, headers=headers
        )
        if created.status_code != 503:
            break
        time.sleep(2 * (attempt + 1))
    created.raise_for_status()
    return created.json()["id"]


def run_state(api: httpx.Client, run_id: str) -> str | None:
    """The flow run's state type, or None while the server does not answer."""
    try:
        response = api.get(f"/flow_runs/{run_id}")
    except httpx.TransportError:
        return None
    response.raise_for_status()
    return (response.json().get("state") or {}).get("type")


def wait_final(api: httpx.Client, run_id: str, timeout: float) -> str:
    state: str | None = None

    def final() -> bool:
        nonlocal state
        state = run_state(api, run_id)
        return state in FINAL

    wait_until(final, timeout, f"flow run {run_id} final state (last {state})")
    assert state is not None
    return state


# -- outbox and mail ---------------------------------------------------------------------------
def outbox(stack: CouncilStack) -> list[Message]:
    engine = create_engine(stack.env["COUNCIL_DATABASE_URL"])
    try:
        with Session(engine) as session:
            return list(session.scalars(select(Message).order_by(Message.id)))
    finally:
        engine.dispose()


def expire_sending_leases(stack: CouncilStack) -> int:
    """Simulate the 15-minute claim lease passing for messages a dead sender left ``sending``."""
    engine = create_engine(stack.env["COUNCIL_DATABASE_URL"])
    try:
        with Session(engine) as session, session.begin():
            result = session.execute(
                update(Message)
                .where(Message.state == "sending")
                .values(claimed_at=datetime.now(UTC) - timedelta(minutes=16))
            )
            return result.rowcount
    finally:
        engine.dispose()


def mails(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.eml"))


def environ_of(pid: int) -> dict[str, str]:
    try:
        return snapshot(pid)[1]
    except OSError:
        return {}


# -- 0. a running flow run cancelled under the council worker -----------------------------------
def test_a_running_flow_run_is_cancelled_through_the_fork_server(tmp_path: Path) -> None:
    """The coordinator cancels send-proposal mid-send (CANCELLING, as the UI's Cancel button sets
    it). The run's process is the worker's launcher; the run itself is a fork of the worker's fork
    server. The worker's SIGTERM reaches the fork through the launcher: the run ends CANCELLED,
    neither process is left, and the fork server forks the next run as before."""
    from tests.test_scale import national_roster

    caught = tmp_path / "mail"
    stack = CouncilStack(tmp_path / "stack")
    bodies = 30  # one second each at the slow SMTP server: the send outlasts the cancelling
    stack.env["COUNCIL_ROSTER_FILE"] = str(national_roster(tmp_path / "roster.yaml", bodies))
    # A batch under way is finished before the process ends (the task's thread is waited for, as
    # under `python -m prefect.engine`): small batches, so the cancelling shows in the count.
    stack.env["COUNCIL_BATCH_SIZE"] = "2"
    seen: dict[str, object] = {}
    procs: list[tuple[int, str]] = []
    forked: list[int] = []
    with slow_smtp(caught) as smtp_port:
        stack.env["COUNCIL_SMTP_HOST"] = "127.0.0.1"
        stack.env["COUNCIL_SMTP_PORT"] = str(smtp_port)
        try:
            stack.start()
            with stack.api() as api:
                run = create_run(api)
                wait_until(
                    lambda: run_state(api, run) == "RUNNING" and len(mails(caught)) >= 1,
                    120,
                    "the run RUNNING with a message delivered",
                )
                procs = stack.leftovers()
                worker = next(pid for pid, cmd in procs if WORKER in cmd)
                server = next(
                    p for p, cmd in procs if "council.worker.forks" in cmd and process_parent(p) == worker
                )
                launcher = next(pid for pid, cmd in procs if "council.worker.launch" in cmd)
                # /proc/PID/environ is the environment a process was started with: the launcher's
                # is the run's; a fork's is its fork server's, so the run is found as its child.
                seen["launcher_runs"] = environ_of(launcher).get("PREFECT__FLOW_RUN_ID") == run
                forked = [pid for pid, _ in procs if process_parent(pid) == server]
                seen["delivered_at_cancel"] = len(mails(caught))
                response = api.post(
                    f"/flow_runs/{run}/set_state", json={"state": {"type": "CANCELLING"}, "force": True}
                )
                response.raise_for_status()
                seen["final"] = wait_final(api, run, 90)
                wait_until(
                    lambda: not process_running(launcher) and not any(map(process_running, forked)),
                    30,
                    "run processes gone",
                )
                seen["delivered"] = len(mails(caught))
                after = create_run(api, deployment_name="dashboard/dashboard")
                seen["next_run"] = wait_final(api, after, 180)
        finally:
            stack.stop()
            leftovers = stack.kill_leftovers()
    print(f"[cancel] {json.dumps(seen)}")
    # the run, and its delivery process (15 batches): both forked by the fork server, both gone
    assert seen["launcher_runs"] and len(forked) == 2, (seen, procs)
    assert seen["final"] == "CANCELLED"
    assert seen["delivered"] < bodies, "the send ended before it was cancelled"
    assert seen["next_run"] == "COMPLETED"
    assert leftovers == [], leftovers


# -- 1. the Prefect server restarted while a flow runs ------------------------------------------
@pytest.mark.parametrize("supervisor", ["council-run", "separate-units"])
def test_prefect_server_restarted_while_a_flow_runs(
    tmp_path: Path, supervisor: str, record_property: Callable[[str, object], None]
) -> None:
    """Prefect server killed mid-send and restarted (by `council run`, or as a separate service): the
    flow run COMPLETES and each body gets exactly one email."""
    caught = tmp_path / "mail"
    stack = CouncilStack(tmp_path / "stack")
    units = Units(stack.state_dir / "logs")
    seen: dict[str, object] = {"supervisor": supervisor}
    with slow_smtp(caught) as smtp_port:
        stack.env["COUNCIL_SMTP_HOST"] = "127.0.0.1"  # `council run` then starts no catcher of its own
        stack.env["COUNCIL_SMTP_PORT"] = str(smtp_port)
        try:
            stack.start()
            server_pid = stack_pid(stack, "prefect server start")
            assert server_pid is not None, stack.leftovers()
            if supervisor == "separate-units":
                worker_pid = stack_pid(stack, WORKER)
                assert worker_pid is not None, stack.leftovers()
                server_cmd, server_env = snapshot(server_pid)
                worker_cmd, worker_env = snapshot(worker_pid)
                assert stack.stop() == 0 and stack.leftovers() == []
                server = units.start("prefect-server-unit", server_cmd, server_env)
                wait_healthy(stack, server)
                units.start("prefect-worker-unit", worker_cmd, worker_env)
                server_pid = server.pid

            with stack.api() as api:
                first = create_run(api)
                wait_until(
                    lambda: run_state(api, first) == "RUNNING" and len(mails(caught)) >= 1,
                    120,
                    "first run RUNNING with a message delivered",
                )
                argv, env = snapshot(server_pid)
                os.killpg(server_pid, signal.SIGKILL)  # its own session: the group is the server alone
                wait_until(lambda: not port_open(stack.prefect_port), 10, "killed server's port closed")
                seen["delivered_when_killed"] = len(mails(caught))
                assert seen["delivered_when_killed"] < BODIES, "the batch finished before the kill"
                if supervisor == "separate-units":
                    time.sleep(3)
                    restarted = units.start("prefect-server-restarted", argv, env)
                    wait_healthy(stack, restarted)
                else:  # `council run` notices and starts the server again itself
                    wait_healthy(stack, None)
                seen["delivered_at_restart"] = len(mails(caught))

                # Wait for the first run to finish, unless nothing is left that could finish it.
                def settled() -> bool:
                    if run_state(api, first) in FINAL:
                        return True
                    alive = stack_pid(stack, "council.worker")
                    return alive is None and (stack.proc is None or stack.proc.poll() is not None)

                # settled() is true only once the state is final or no process is left to report one
                wait_until(settled, 120, "first run finished or abandoned")
                seen["first_run_final_state"] = run_state(api, first)
                seen["council_run_exit"] = stack.proc.poll() if stack.proc else None

                if seen["first_run_final_state"] != "COMPLETED":
                    if stack_pid(stack, WORKER) is None:
                        units.start(
                            "prefect-worker-2",
                            [sys.executable, "-m", "council.worker", "--pool", "council"],
                            env,
                        )
                    seen["leases_expired"] = expire_sending_leases(stack)
                    second = create_run(api)
                    seen["second_run_final_state"] = wait_final(api, second, timeout=150)
            status = stack.status()
        finally:
            stack.stop()
            units.stop()
            leftovers = stack.kill_leftovers()
    record_property("observed", json.dumps(seen))
    print(f"[prefect-faults] {json.dumps(seen)}")

    assert leftovers == [], leftovers
    rows = outbox(stack)
    received = Counter(read_eml(p)["Message-ID"] for p in mails(caught))
    assert len(rows) == BODIES and {m.state for m in rows} == {"sent"}, [(m.body_id, m.state) for m in rows]
    assert set(received) == {m.message_id for m in rows} and len(received) == BODIES
    repeated = {mid for mid, n in received.items() if n > 1}
    assert not repeated, received
    assert seen["first_run_final_state"] == "COMPLETED", seen
    if supervisor == "council-run":
        # `council run` restarted the server itself and kept the worker (and so the flow run) alive.
        assert seen["council_run_exit"] is None, seen
        assert any("Prefect-palvelin pysähtyi" in line for line in stack.output), stack.log_tail()
    assert [b["messages"]["proposal/0"] for b in status["bodies"]] == ["sent"] * BODIES, status


# -- 2. basic authentication and CSRF protection ------------------------------------------------
CLIENT_CREATES_RUN = """
import asyncio
from prefect import get_client

async def main():
    async with get_client() as client:
        deployment = await client.read_deployment_by_name({deployment!r})
        run = await client.create_flow_run_from_deployment(deployment.id)
        print(run.id)

asyncio.run(main())
"""


def test_basic_auth_and_csrf_protect_the_prefect_api(tmp_path: Path) -> None:
    """With basic auth and CSRF on, anonymous and token-less calls are refused, the Prefect client, the
    worker and the flow run authenticate and send, and the password is written nowhere."""
    user, password = "valvoja", f"Kv-salasana-{uuid.uuid4().hex[:10]}"
    auth_string = f"{user}:{password}"
    stack = CouncilStack(tmp_path)
    stack.env.update(
        {
            "PREFECT_SERVER_API_AUTH_STRING": auth_string,
            "PREFECT_API_AUTH_STRING": auth_string,
            "PREFECT_SERVER_CSRF_PROTECTION_ENABLED": "true",
        }
    )
    client_env = {
        **stack.env,
        "PREFECT_API_URL": stack.api_url,
        "PREFECT_HOME": str(stack.state_dir / "prefect"),
    }
    texts: list[str] = []
    try:
        stack.start()  # `prefect work-pool create` and `prefect deploy` already authenticated here
        with httpx.Client(base_url=stack.api_url, timeout=15) as anonymous:
            assert anonymous.get("/health").status_code == 200  # open for liveness probes
            assert anonymous.get(f"/deployments/name/{DEPLOYMENT}").status_code == 401
            assert anonymous.get("/csrf-token", params={"client": "x"}).status_code == 401
            # The CSRF check runs before the auth check: an anonymous POST is refused for its missing token.
            refused = anonymous.post("/flows/filter", json={})
            assert refused.status_code == 403 and "Missing CSRF token" in refused.text

        client_id = str(uuid.uuid4())
        with httpx.Client(base_url=stack.api_url, timeout=15, auth=(user, password)) as api:
            no_token = api.post("/flows/filter", json={})
            assert no_token.status_code == 403 and "Missing CSRF token" in no_token.text
            token = api.get("/csrf-token", params={"client": client_id})
            assert token.status_code == 200, token.text
            csrf = {"Prefect-Csrf-Token": token.json()["token"], "Prefect-Csrf-Client": client_id}
            flows = api.post("/flows/filter", json={}, headers=csrf)
            assert flows.status_code == 200 and "send-proposal" in {f["name"] for f in flows.json()}
            forged = api.post("/flows/filter", json={}, headers={**csrf, "Prefect-Csrf-Token": "x" * 32})
            assert forged.status_code == 403 and "Invalid CSRF token" in forged.text
            # A valid token does not stand in for the password.
            for wrong in (None, (user, "wrong-password")):
                response = httpx.post(f"{stack.api_url}/flows/filter", json={}, headers=csrf, auth=wrong)
                assert response.status_code == 401, (wrong, response.text)
            # A non-ASCII password is refused too, but Prefect 3.9 answers 500: its check uses
            # hmac.compare_digest on str, which raises for non-ASCII; so the auth string must be ASCII.
            response = api.post("/flows/filter", json={}, headers=csrf, auth=(user, "väärä-salasana"))
            assert response.status_code in {401, 500}, response.text

            # The Prefect client authenticates from PREFECT_API_AUTH_STRING and fetches its own CSRF token.
            code = CLIENT_CREATES_RUN.format(deployment=DEPLOYMENT)
            created = subprocess.run(
                [sys.executable, "-c", code], env=client_env, cwd=PROJECT_ROOT, capture_output=True, text=True
            )
            texts += [created.stdout, created.stderr]
            assert created.returncode == 0, created.stderr[-3000:]
            run_id = created.stdout.strip().splitlines()[-1]
            refused_client = subprocess.run(
                [sys.executable, "-c", code],
                env={**client_env, "PREFECT_API_AUTH_STRING": f"{user}:wrong-password"},
                cwd=PROJECT_ROOT,
                capture_output=True,
                text=True,
            )
            texts += [refused_client.stdout, refused_client.stderr]
            assert refused_client.returncode != 0 and "401" in refused_client.stderr

            # The stack's worker picks the run up and the flow run reports to the protected API.
            assert wait_final(api, run_id, timeout=150) == "COMPLETED", stack.log_tail()
            assert api.get(f"/flow_runs/{run_id}").json()["work_pool_name"] == "council"
        status_run = stack.council("status", "--json")
        texts += [status_run.stdout, status_run.stderr]
        status = json.loads(status_run.stdout)
        assert [b["messages"]["proposal/0"] for b in status["bodies"]] == ["sent"] * BODIES
        assert len(mails(stack.outputs_dir / "mail")) == BODIES
    finally:
        stack.stop()
        leftovers = stack.kill_leftovers()
    assert leftovers == [], leftovers

    texts.append("\n".join(stack.output))
    logs = sorted((stack.state_dir / "logs").glob("*.log"))
    assert {p.name for p in logs} >= {"prefect-server.log", "prefect-worker.log"}
    header = base64.b64encode(auth_string.encode()).decode()
    for secret in (password, header):
        assert not [i for i, text in enumerate(texts) if secret in text]
        # Every file the stack wrote: logs, outputs (documents, mail), the council and Prefect databases.
        assert not [p for p in tmp_path.rglob("*") if p.is_file() and secret.encode() in p.read_bytes()]
