"""workers: the 329-body campaign on PostgreSQL through Prefect with one process worker and with two.

Each side is the project's own stack (`council run --no-send --workers N`, as tests/browser/
prefect_stack.py starts it: Prefect server, SMTP server, N process workers, deployments of
prefect.yaml) in a fresh folder with a fresh PostgreSQL database. Once every worker is online, the
clock starts, send-proposal is started through the API and the clock stops when its run is final.
With two workers send-proposal starts a send-proposal-part run for the other worker and both take
batches from one work list (council/services/send.py ``_shared_send``).

CPU time is the machine's (/proc/stat: user + nice + system + irq + softirq of every core) over the
same window: every process of the run — worker(s), flow-run processes, Prefect server, SMTP
server, PostgreSQL — and nothing else should run meanwhile. The limit the issue sets for two
workers is the one-worker run's CPU time divided by the cores (2): what two cores could do at best.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
import uuid
from collections import Counter
from datetime import datetime
from email import message_from_bytes
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from benchmarks.bench_campaign import roster_yaml
from benchmarks.common import Ratio, Section
from tests.browser.prefect_stack import CouncilStack
from tests.conftest import PG_ADMIN_URL

TICK = os.sysconf("SC_CLK_TCK")


def machine_cpu_seconds() -> float:
    """CPU seconds spent by every process on the machine so far (all cores)."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq = (int(x) for x in fields[:7])
    return (user + nice + system + irq + softirq) / TICK


def _api(client: httpx.Client, method: str, url: str, **kwargs: object) -> httpx.Response:
    """One API call, tried again on 429/5xx as Prefect's own client does (the server on SQLite
    answers 503 when its database is busy)."""
    for attempt in range(10):
        response = client.request(method, url, **kwargs)
        if response.status_code != 429 and response.status_code < 500:
            return response.raise_for_status()
        time.sleep(0.5 * (attempt + 1))
    return response.raise_for_status()


class WorkersStack(CouncilStack):
    """The stack with N workers, a synthetic roster and its own PostgreSQL database."""

    def __init__(self, root: Path, workers: int, roster: Path, database_url: str, batch_size: int) -> None:
        super().__init__(root, run_args=("--workers", str(workers)))
        self.workers = workers
        self.env.update(
            {
                "COUNCIL_ROSTER_FILE": str(roster),
                "COUNCIL_DATABASE_URL": database_url,
                "COUNCIL_BATCH_SIZE": str(batch_size),
                # the service's own work, as the campaign section measures it (no LibreOffice)
                "COUNCIL_ATTACH_PDF": "false",
                "PREFECT_WORKER_QUERY_SECONDS": "1",
            }
        )

    def send(self, timeout: float = 900) -> dict:
        """Start send-proposal through the API; wall and machine CPU seconds until its run is final."""
        with httpx.Client(base_url=self.api_url, timeout=30) as client:
            deployment = _api(client, "GET", "/deployments/name/send-proposal/send-proposal").json()
            cpu0, start = machine_cpu_seconds(), time.perf_counter()
            run = _api(
                client, "POST", f"/deployments/{deployment['id']}/create_flow_run", json={"parameters": {}}
            )
            run_id = run.json()["id"]
            while True:
                state = _api(client, "GET", f"/flow_runs/{run_id}").json()["state"]
                if state and state["type"] in ("COMPLETED", "FAILED", "CRASHED", "CANCELLED"):
                    break
                if time.perf_counter() - start > timeout:
                    raise RuntimeError(f"send-proposal did not end in {timeout:.0f} s")
                time.sleep(0.2)
            wall, cpu = time.perf_counter() - start, machine_cpu_seconds() - cpu0
            parts = _api(
                client,
                "POST",
                "/flow_runs/filter",
                json={"flow_runs": {"parent_flow_run_id": {"any_": [run_id]}}},
            ).json()
            main = _api(client, "GET", f"/flow_runs/{run_id}").json()
        return {
            "seconds": wall,
            "cpu_seconds": cpu,
            "state": state["type"],
            "part_runs": sorted(p["state"]["type"] for p in parts if p.get("state")),
            # when each run started and ended, in seconds from the moment send-proposal was asked for
            "timeline": [_span(run, main["created"]) for run in (main, *parts)],
        }


def _span(run: dict, origin: str) -> list:
    def at(stamp: str | None) -> float | None:
        if stamp is None:
            return None
        return round((datetime.fromisoformat(stamp) - datetime.fromisoformat(origin)).total_seconds(), 2)

    return [
        run["flow_name"] if "flow_name" in run else run["name"],
        at(run.get("start_time")),
        at(run.get("end_time")),
    ]


def _mails(folder: Path) -> tuple[int, int]:
    """(messages, most messages to one address)."""
    to = Counter(str(message_from_bytes(path.read_bytes())["To"]) for path in folder.rglob("*.eml"))
    return sum(to.values()), max(to.values(), default=0)


def one_side(root: Path, workers: int, roster: Path, batch_size: int) -> dict:
    """One side on fresh PostgreSQL databases: the service's, and the Prefect server's own (README,
    "PostgreSQL, more workers": on SQLite, two workers' writes meet the server's database lock and
    a request now and then waits out a 503 and its retry)."""
    name = f"council_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}_prefect"'))
    url = make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    prefect_url = (
        make_url(PG_ADMIN_URL).set(drivername="postgresql+asyncpg", database=f"{name}_prefect")
    ).render_as_string(hide_password=False)
    stack = WorkersStack(root, workers, roster, url, batch_size)
    stack.env["PREFECT_API_DATABASE_CONNECTION_URL"] = prefect_url
    try:
        stack.start()
        stack.online_workers(stack.workers)
        time.sleep(2)  # the start-up's last writes settle before the clock starts
        result = stack.send()
        result["mails"], result["most_to_one"] = _mails(stack.outputs_dir)
    finally:
        stack.stop()
        stack.kill_leftovers()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}_prefect" WITH (FORCE)'))
        admin.dispose()
    return result


def run(*, bodies: int = 329, batch_size: int = 25, rounds: int = 3) -> Section:
    section = Section(
        "workers",
        f"send-proposal to {bodies} bodies on PostgreSQL, one process worker vs two (batch size {batch_size}, ×{rounds})",
    )
    runs: dict[int, list[dict]] = {1: [], 2: []}
    with tempfile.TemporaryDirectory(prefix="council-bench-workers-") as tmp:
        root = Path(tmp)
        roster = root / "roster.yaml"
        roster.write_text(roster_yaml(bodies), encoding="utf-8")
        for i in range(rounds):
            for workers in (1, 2):
                runs[workers].append(one_side(root / f"w{workers}-{i}", workers, roster, batch_size))
    for workers, results in runs.items():
        for r in results:
            if r["state"] != "COMPLETED" or r["mails"] != bodies or r["most_to_one"] != 1:
                section.notes.append(f"{workers} worker(s): {r}")
    wall = {w: statistics.median(r["seconds"] for r in rs) for w, rs in runs.items()}
    cpu = {w: statistics.median(r["cpu_seconds"] for r in rs) for w, rs in runs.items()}
    cores = os.cpu_count() or 2
    limit = cpu[1] / cores
    section.measure("one_worker_s", "one worker: send-proposal, wall", wall[1], "s")
    section.measure("one_worker_cpu_s", "  CPU of the whole machine meanwhile", cpu[1], "s")
    section.measure("limit_s", f"  limit: that CPU / {cores} cores", limit, "s")
    section.measure("two_workers_s", "two workers: send-proposal, wall", wall[2], "s")
    section.measure("two_workers_cpu_s", "  CPU of the whole machine meanwhile", cpu[2], "s")
    section.measure(
        "part_runs", "  send-proposal-part runs of the two-worker side", len(runs[2][0]["part_runs"]), "runs"
    )
    section.ratios += [
        Ratio("two workers / CPU limit (wall)", wall[2] / limit, "<= 1.2", "close to what two cores can do"),
        Ratio("two workers / one worker (wall)", wall[2] / wall[1], "<= 0.75", "the second worker pays"),
    ]
    section.details.update({"runs": {str(w): rs for w, rs in runs.items()}, "cores": cores})
    return section
