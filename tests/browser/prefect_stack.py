"""The project's own stack (`council run --no-send`) on free ports in a temporary folder, for UI tests.

`CouncilStack` runs `council init`, starts `council run --no-send` (local SMTP server, Prefect
server, process worker, deployments of prefect.yaml) exactly as `make run` does, waits for its
"Palvelut käynnissä" line, runs other `council` commands with the same environment, and stops
everything with SIGINT (then SIGTERM/SIGKILL if needed). `leftovers()` finds any process that still
carries the stack's state folder in its command line or environment: nothing may be left behind.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import httpx

from council.config import PROJECT_ROOT
from tests.conftest import free_port

READY_LINE = "Palvelut käynnissä"


@contextmanager
def _sigint_not_ignored() -> Iterator[None]:
    """Start children with SIGINT at its default, as from a terminal.

    A process started from a non-interactive shell's background job (`cmd &`) inherits SIGINT as
    *ignored*, and so would `council run` and its Prefect worker: `council run` would ignore Ctrl-C,
    and the worker, which turns SIGTERM into a SIGINT to itself, would not stop until `council run`
    kills it 20 s later. A Python-level handler set here is reset to the default by exec() in the
    child, whereas SIG_IGN would be inherited.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.getsignal(signal.SIGINT)
    if previous == signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        if previous == signal.SIG_IGN:
            signal.signal(signal.SIGINT, previous)


class StackError(RuntimeError):
    """The stack did not start, or a command in it failed."""


class CouncilStack:
    def __init__(self, root: Path, *, start_timeout: float = 240, run_args: tuple[str, ...] = ()) -> None:
        self.root = root
        self.run_args = ("run", "--no-send", *run_args)
        self.state_dir = root / "state"
        self.outputs_dir = root / "outputs"
        self.prefect_port = free_port()
        self.smtp_port = free_port()
        while self.smtp_port == self.prefect_port:
            self.smtp_port = free_port()
        self.start_timeout = start_timeout
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("COUNCIL_", "PREFECT_"))}
        self.env.update(
            {
                "COUNCIL_STATE_DIR": str(self.state_dir),
                "COUNCIL_OUTPUTS_DIR": str(self.outputs_dir),
                "COUNCIL_DATABASE_URL": f"sqlite:///{root / 'council.db'}",
                "COUNCIL_PREFECT_PORT": str(self.prefect_port),
                "COUNCIL_LOCAL_SMTP_PORT": str(self.smtp_port),
                "PYTHONUNBUFFERED": "1",
                "NO_COLOR": "1",
                # No scheduled runs: read-replies every 15 minutes would start a flow run in the middle
                # of a test on a 2-core machine (a form's submit then timed out in CI). The tests start
                # the runs they need; the schedules themselves are still registered and checked.
                "PREFECT_SERVER_SERVICES_SCHEDULER_ENABLED": "false",
            }
        )
        self.proc: subprocess.Popen[str] | None = None
        self.init_seconds = 0.0
        self.started = 0.0
        self.output: list[str] = []
        self._ready = threading.Event()
        self._reader: threading.Thread | None = None

    # -- addresses -------------------------------------------------------------------------
    @property
    def ui_url(self) -> str:
        return f"http://127.0.0.1:{self.prefect_port}"

    @property
    def api_url(self) -> str:
        return f"{self.ui_url}/api"

    # -- commands --------------------------------------------------------------------------
    def council(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        """Run ``council ARGS`` with the stack's environment; a non-zero exit raises StackError."""
        exe = str(Path(sys.executable).parent / "council")
        result = subprocess.run(
            [exe, *args], env=self.env, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=timeout
        )
        if result.returncode != 0:
            raise StackError(
                f"council {' '.join(args)} → {result.returncode}\n{result.stdout}\n{result.stderr}"
            )
        return result

    def status(self) -> dict:
        return json.loads(self.council("status", "--json").stdout)

    # -- life cycle ------------------------------------------------------------------------
    def start(self) -> None:
        """`council init`, then `council run --no-send` until its ready line; ``init_seconds`` and
        ``started`` (perf_counter when run started) are kept for the start-up benchmark."""
        self.root.mkdir(parents=True, exist_ok=True)
        begin = time.perf_counter()
        self.council("init")
        self.init_seconds = time.perf_counter() - begin
        exe = str(Path(sys.executable).parent / "council")
        with _sigint_not_ignored():
            self.started = time.perf_counter()
            self.proc = subprocess.Popen(
                [exe, *self.run_args],
                env=self.env,
                cwd=PROJECT_ROOT,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                encoding="utf-8",
                errors="replace",
                start_new_session=True,
            )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        deadline = time.monotonic() + self.start_timeout
        while not self._ready.wait(0.5):
            if self.proc.poll() is not None:
                raise StackError(f"council run päättyi (koodi {self.proc.returncode}):\n{self.log_tail()}")
            if time.monotonic() > deadline:
                raise StackError(
                    f"council run ei käynnistynyt {self.start_timeout:.0f} s:ssa:\n{self.log_tail()}"
                )

    def _read(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        for line in self.proc.stdout:
            self.output.append(line.rstrip("\n"))
            if READY_LINE in line:
                self._ready.set()

    def log_tail(self, lines: int = 40) -> str:
        text = "\n".join(self.output[-lines:])
        logs = self.state_dir / "logs"
        if logs.is_dir():
            for log in sorted(logs.glob("*.log")):
                tail = log.read_text(encoding="utf-8", errors="replace").splitlines()[-15:]
                text += f"\n--- {log.name} ---\n" + "\n".join(tail)
        return text

    def stop(self, timeout: float = 90) -> int | None:
        """Ctrl-C: SIGINT to `council run`, which stops its children; SIGTERM, then SIGKILL if it hangs."""
        if self.proc is None:
            return None
        for sig, wait in ((signal.SIGINT, timeout), (signal.SIGTERM, 30), (signal.SIGKILL, 15)):
            if self.proc.poll() is not None:
                break
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=wait)
            except subprocess.TimeoutExpired:
                self.output.append(f"[prefect_stack] council run did not exit {wait:.0f} s after {sig.name}")
        if self._reader is not None:
            self._reader.join(timeout=5)
        return self.proc.returncode

    def leftovers(self) -> list[tuple[int, str]]:
        """Processes (pid, command line) still carrying this stack's state folder: argv or environment."""
        marker = str(self.state_dir)
        found: dict[int, str] = {}
        pgrep = subprocess.run(["pgrep", "-af", marker], capture_output=True, text=True)
        for line in pgrep.stdout.splitlines():
            pid, _, cmd = line.partition(" ")
            if int(pid) != os.getpid():
                found[int(pid)] = cmd
        env_marker = f"COUNCIL_STATE_DIR={marker}".encode()
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit() or int(entry.name) == os.getpid():
                continue
            try:
                environ = (entry / "environ").read_bytes()
                if env_marker in environ.split(b"\0"):
                    cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                    if cmd:  # zombies have an empty command line
                        found[int(entry.name)] = cmd.strip()
            except OSError:
                continue
        return sorted(found.items())

    def kill_leftovers(self) -> list[tuple[int, str]]:
        found = self.leftovers()
        for pid, _ in found:
            with suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        return found

    # -- Prefect API (reading only) --------------------------------------------------------
    def api(self) -> httpx.Client:
        return httpx.Client(base_url=self.api_url, timeout=15)

    def online_workers(self, count: int, timeout: float = 120) -> list[dict]:
        """The work pool's workers once ``count`` of them are online (`council run --workers N`)."""
        deadline = time.monotonic() + timeout
        with self.api() as client:
            while True:
                workers = client.post("/work_pools/council/workers/filter", json={}).json()
                if sum(w.get("status") == "ONLINE" for w in workers) >= count:
                    return workers
                if time.monotonic() > deadline:
                    raise StackError(f"{count} työntekijää ei ollut käynnissä {timeout:.0f} s:ssa: {workers}")
                time.sleep(0.5)

    def create_run(self, deployment_id: str, timeout: float = 60) -> str:
        """A run of the deployment, asked again while the server answers 503 (its SQLite database
        busy under two workers' writes), as Prefect's own client does."""
        deadline = time.monotonic() + timeout
        with self.api() as client:
            while True:
                response = client.post(f"/deployments/{deployment_id}/create_flow_run", json={})
                if response.status_code != 503 or time.monotonic() > deadline:
                    return response.raise_for_status().json()["id"]
                time.sleep(1)

    def deployment(self, flow: str, name: str, timeout: float = 60) -> dict:
        """The deployment, asked again while a busy server answers with an error (seen on 2 cores
        under load right after start-up)."""
        deadline = time.monotonic() + timeout
        with self.api() as client:
            while True:
                try:
                    response = client.get(f"/deployments/name/{flow}/{name}")
                    if response.status_code == 200:
                        return response.json()
                    problem = f"{response.status_code} {response.text[:200]}"
                except httpx.HTTPError as exc:
                    problem = repr(exc)
                if time.monotonic() > deadline:
                    raise StackError(f"deployment {flow}/{name}: {problem}\n{self.log_tail()}")
                time.sleep(1)

    def flow_runs(self, flow: str, deployment: str) -> list[dict]:
        """The flow runs of one deployment, newest first."""
        with self.api() as client:
            deployment = client.get(f"/deployments/name/{flow}/{deployment}")
            deployment.raise_for_status()
            response = client.post(
                "/flow_runs/filter",
                json={
                    "deployments": {"id": {"any_": [deployment.json()["id"]]}},
                    "sort": "EXPECTED_START_TIME_DESC",
                },
            )
            response.raise_for_status()
            return response.json()

    def wait_for_final_state(self, run_id: str, timeout: float) -> dict:
        deadline = time.monotonic() + timeout
        with self.api() as client:
            while True:
                response = client.get(f"/flow_runs/{run_id}")
                response.raise_for_status()
                run = response.json()
                state = run.get("state") or {}
                if state.get("type") in {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}:
                    return run
                if time.monotonic() > deadline:
                    raise StackError(
                        f"Ajo {run_id} ei valmistunut {timeout:.0f} s:ssa (tila {state.get('name')})"
                    )
                if self.proc is not None and self.proc.poll() is not None:
                    raise StackError(f"council run pysähtyi kesken:\n{self.log_tail()}")
                time.sleep(1)
