"""startup: `council run --no-send` until its ready line vs a bare `prefect server start` until /api/health.

Both sides start from nothing, in a fresh temporary folder each time: the bare server with a fresh
PREFECT_HOME on a free port; `council run --no-send` with its own COUNCIL_STATE_DIR (so a fresh
PREFECT_HOME under it), outputs, SQLite database and ports, exactly as the UI tests isolate a stack
(tests/browser/prefect_stack.py `CouncilStack`). `council init` runs before the clock starts (a
`make run` on an installed machine finds the database already made; init is timed and reported
apart). "Ready" is the moment `council run` prints "Palvelut käynnissä" — the local SMTP server,
the Prefect server, the work pool, every deployment of prefect.yaml (with the forms' choices) and the
worker are all up. Rounds alternate bare / council; the medians are compared. After each council
round the stack is stopped with Ctrl-C and no process of it may be left.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from benchmarks.common import Ratio, Section, free_port
from council.cli.prefect_server import stop_group
from tests.browser.prefect_stack import READY_LINE, CouncilStack

POLL = 0.05  # seconds between health checks of the bare server


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) of a process and of its children that it has waited for (Linux /proc)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return sum(int(x) for x in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def _health(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/health", timeout=2) as response:  # noqa: S310
            return response.status == 200
    except OSError:
        return False


def bare_server(root: Path, timeout: float = 240) -> tuple[float, float]:
    """Seconds from starting `prefect server start` (fresh PREFECT_HOME) until /api/health answers 200,
    and the server's CPU seconds by then."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COUNCIL_", "PREFECT_"))}
    env.update(
        {
            "PREFECT_HOME": str(root / "prefect-home"),
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "DO_NOT_TRACK": "1",
            "PREFECT_SERVER_UI_SHOW_PROMOTIONAL_CONTENT": "false",
        }
    )
    prefect = str(Path(sys.executable).parent / "prefect")
    log = open(root / "bare-server.log", "wb")  # noqa: SIM115 - closed below
    start = time.perf_counter()
    proc = subprocess.Popen(
        [prefect, "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        cwd=root,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        while not _health(port):
            if proc.poll() is not None:
                raise RuntimeError(
                    f"bare prefect server exited {proc.returncode}; see {root / 'bare-server.log'}"
                )
            if time.perf_counter() - start > timeout:
                raise RuntimeError(f"bare prefect server did not answer in {timeout:.0f} s")
            time.sleep(POLL)
        return time.perf_counter() - start, cpu_seconds(proc.pid)
    finally:
        stop_group(proc, timeout=30)
        log.close()


class TimedStack(CouncilStack):
    """CouncilStack whose start is timed from the `council run` process's start, each output line
    with the moment it arrived (the steps' timestamps)."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.env["COLUMNS"] = "200"  # one output line per printed line
        self.lines: list[tuple[float, str]] = []
        self.ready_at: float | None = None
        self.cpu_at_ready = 0.0

    def start(self) -> None:
        super().start()
        # Every process of the stack (council run with the children it waited for, the servers, the worker).
        self.cpu_at_ready = sum(cpu_seconds(pid) for pid, _ in self.leftovers())

    def _read(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        for line in self.proc.stdout:
            now = time.perf_counter() - self.started
            self.output.append(line.rstrip("\n"))
            self.lines.append((round(now, 3), line.rstrip("\n")))
            if READY_LINE in line and self.ready_at is None:
                self.ready_at = now
                self._ready.set()


def council_run(root: Path) -> dict:
    """One `council run --no-send` until ready; stopped with Ctrl-C; nothing may be left behind."""
    stack = TimedStack(root)
    try:
        stack.start()
        assert stack.ready_at is not None
        result = {
            "seconds": stack.ready_at,
            "cpu_seconds": stack.cpu_at_ready,
            "init_seconds": stack.init_seconds,
            "lines": stack.lines,
        }
        log = stack.state_dir / "logs" / "startup.log"
        result["steps"] = log.read_text(encoding="utf-8").splitlines()[1:] if log.exists() else []
    finally:
        stop_begin = time.perf_counter()
        code = stack.stop()
        stop_seconds = time.perf_counter() - stop_begin
        left = stack.kill_leftovers()
    if left:
        raise RuntimeError(f"council run left processes behind: {left}")
    result.update({"stop_seconds": stop_seconds, "exit_code": code})
    return result


def run(*, repeats: int = 3) -> Section:
    section = Section(
        "startup", f"`council run --no-send` until ready vs bare `prefect server start`, ×{repeats}"
    )
    bare: list[tuple[float, float]] = []
    council: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="council-bench-startup-") as tmp:
        for round_ in range(repeats):
            folder = Path(tmp) / f"round-{round_}"
            (folder / "bare").mkdir(parents=True)
            bare.append(bare_server(folder / "bare"))
            council.append(council_run(folder / "council"))
    bare_median = statistics.median(b[0] for b in bare)
    bare_cpu = statistics.median(b[1] for b in bare)
    council_cpu = statistics.median(r["cpu_seconds"] for r in council)
    council_median = statistics.median(r["seconds"] for r in council)
    section.measure("bare_s", "bare `prefect server start` until /api/health 200", bare_median, "s")
    section.measure("council_s", '`council run --no-send` until "Palvelut käynnissä"', council_median, "s")
    section.measure("bare_cpu_s", "  CPU time of the bare server by then", bare_cpu, "s")
    section.measure("council_cpu_s", "  CPU time of every process of council run by then", council_cpu, "s")
    median_round = sorted(council, key=lambda r: r["seconds"])[len(council) // 2]
    for i, step in enumerate(median_round["steps"]):  # council run's own log: seconds since it started
        at, _, what = step.strip().partition(" s  ")
        section.measure(f"step_{i}", f"  {what[:50]}", float(at), "s")
    section.measure(
        "init_s",
        "`council init` before it (not timed)",
        statistics.median(r["init_seconds"] for r in council),
        "s",
    )
    section.measure(
        "stop_s",
        "Ctrl-C until every process has stopped",
        statistics.median(r["stop_seconds"] for r in council),
        "s",
    )
    section.ratios.append(
        Ratio(
            "council run / bare server",
            council_median / bare_median,
            "<= 1.5",
            "start-up",
            cpu_value=council_cpu / bare_cpu,
        )
    )
    section.details.update(
        {
            "bare_seconds": [b[0] for b in bare],
            "bare_cpu_seconds": [b[1] for b in bare],
            "council_seconds": [r["seconds"] for r in council],
            "council_rounds": council,
        }
    )
    return section
