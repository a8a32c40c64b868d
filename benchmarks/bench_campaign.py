"""campaign: send-proposal to a synthetic 329-body roster through Prefect vs its own parts (render, compose,
raw SMTP, body by body) and vs a plain Python loop over the same service functions."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from benchmarks.common import Ratio, Section, smtp_server_process
from council.config import PROJECT_ROOT


def roster_yaml(bodies: int) -> str:
    return yaml.safe_dump(
        {
            "name": f"Synteettinen {bodies} vastaanottajaa",
            "bodies": [
                {
                    "id": f"kunta-{i:03d}",
                    "name": f"Kunta {i:03d}",
                    "name_genitive": f"Kunta {i:03d}:n",
                    "name_inessive": f"Kunta {i:03d}:ssä",
                    "kind": "kunta",
                    "deciding_body": f"Kunta {i:03d}:n kunnanhallitus",
                    "registry_email": f"kirjaamo@kunta-{i:03d}.example",
                    "language": "fi",
                }
                for i in range(1, bodies + 1)
            ],
        },
        allow_unicode=True,
        sort_keys=False,
    )


def _peak(result: dict) -> float:
    peak = result["peak_rss_mb"]
    return peak["vmhwm"] if peak["vmhwm"] is not None else peak["ru_maxrss"]


def run_side(side: str, root: Path, roster: Path, batch_size: int, timeout: float) -> dict:
    """Run one side in a fresh process with its own database, outputs and SMTP server."""
    folder = root / side
    folder.mkdir()
    with smtp_server_process(folder / "mail") as port:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("COUNCIL_", "PREFECT_"))}
        env.update(
            {
                "PYTHONPATH": str(PROJECT_ROOT),
                "COUNCIL_HOME": str(PROJECT_ROOT),
                "COUNCIL_ROSTER_FILE": str(roster),
                "COUNCIL_DATABASE_URL": f"sqlite:///{folder / 'council.db'}",
                "COUNCIL_OUTPUTS_DIR": str(folder / "outputs"),
                "COUNCIL_STATE_DIR": str(folder / "state"),
                "COUNCIL_LOCAL_SMTP_PORT": str(port),
                "COUNCIL_BATCH_SIZE": str(batch_size),
                # The service's own work is measured: PDF/A copies (on by default where LibreOffice
                # is installed) would measure LibreOffice, and its presence differs between machines.
                "COUNCIL_ATTACH_PDF": "false",
                "PREFECT_HOME": str(folder / "prefect-home"),
                "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
                "DO_NOT_TRACK": "1",
            }
        )
        start = time.perf_counter()
        # cwd is the side's own folder: no .env of the project or of the user is read.
        proc = subprocess.run(
            [sys.executable, "-m", "benchmarks.campaign_worker", side],
            cwd=folder,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        wall = time.perf_counter() - start
    lines = [line for line in proc.stdout.splitlines() if line.startswith("BENCH_RESULT ")]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(
            f"campaign side {side} failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
        )
    result = json.loads(lines[-1].removeprefix("BENCH_RESULT "))
    result["process_wall_seconds"] = wall
    result["mails"] = len(list((folder / "mail").glob("*.eml")))
    result["documents"] = len(list((folder / "outputs").rglob("*.docx")))
    return result


def run(
    *, bodies: int = 329, batch_size: int = 50, timeout: float = 600, what_if_compiled: bool = False
) -> Section:
    section = Section(
        "campaign",
        f"send-proposal to {bodies} bodies, batch size {batch_size}: Prefect flow vs its parts and a plain loop",
    )
    with tempfile.TemporaryDirectory(prefix="council-bench-campaign-") as tmp:
        root = Path(tmp)
        roster = root / "roster.yaml"
        roster.write_text(roster_yaml(bodies), encoding="utf-8")
        parts = run_side("parts", root, roster, batch_size, timeout)
        plain = run_side("plain", root, roster, batch_size, timeout)
        flow = run_side("prefect", root, roster, batch_size, timeout)
        what_if = (
            {
                side: run_side(side, root, roster, batch_size, timeout)
                for side in ("plain-compiled", "prefect-compiled")
            }
            if what_if_compiled
            else {}
        )
    for label, r in (("parts", parts), ("plain", plain), ("prefect", flow), *what_if.items()):
        if r["sent"] != bodies or r["mails"] != bodies or r["documents"] != 2 * bodies:
            section.notes.append(
                f"{label}: sent {r['sent']}, mails {r['mails']}, documents {r['documents']} (expected {bodies}/{bodies}/{2 * bodies})"
            )
    section.measure("parts_s", "parts: render both + compose + raw SMTP, body by body", parts["seconds"], "s")
    for name, seconds in parts["parts"].items():
        section.measure(f"parts_{name}_ms", f"  parts, {name} per body", seconds / bodies * 1000, "ms")
    section.measure("plain_s", "plain loop: sync + prepare + deliver per batch", plain["seconds"], "s")
    section.measure("prefect_s", "Prefect: the send_proposal flow call", flow["seconds"], "s")
    section.measure("parts_per_body_ms", "  parts, per body", parts["seconds"] / bodies * 1000, "ms")
    section.measure("plain_per_body_ms", "  plain, per body", plain["seconds"] / bodies * 1000, "ms")
    section.measure("prefect_per_body_ms", "  Prefect, per body", flow["seconds"] / bodies * 1000, "ms")
    in_flow_thread = 0.0  # tasks the flow waits for; deliver-batch runs beside the next prepare-batch
    for name, entry in sorted(flow.get("tasks", {}).items()):
        if name != "deliver-batch":
            in_flow_thread += entry["seconds"]
        section.measure(f"task_{name}", f"  task {name} ×{entry['count']}", entry["seconds"], "s")
    if flow.get("tasks"):
        section.measure(
            "orchestration_s",
            "  flow time outside its own tasks (orchestration + waiting for a delivery)",
            flow["seconds"] - in_flow_thread,
            "s",
        )
    section.measure(
        "harness_s",
        "Prefect test server (and the worker's fork server) start-up (not timed)",
        flow["harness_start_seconds"],
        "s",
    )
    if not flow.get("fork_server"):
        section.notes.append("prefect: no fork server (BENCH_NO_FORK_SERVER or it did not start)")
    rss = {side: _peak(r) for side, r in (("plain", plain), ("prefect", flow))}
    section.measure("plain_rss_mb", "peak RSS, plain process (VmHWM)", rss["plain"], "MB")
    section.measure("prefect_rss_mb", "peak RSS, Prefect flow process (VmHWM)", rss["prefect"], "MB")
    section.measure(
        "delivered",
        "messages / documents per side",
        plain["mails"],
        f"msgs, {plain['documents']} docx (plain); {flow['mails']} msgs, {flow['documents']} docx (Prefect)",
    )
    if what_if:
        fast_plain, fast_flow = what_if["plain-compiled"], what_if["prefect-compiled"]
        section.measure(
            "what_if_plain_s", "what-if, DOCX via council.docx_fast: plain loop", fast_plain["seconds"], "s"
        )
        section.measure(
            "what_if_prefect_s",
            "what-if, DOCX via council.docx_fast: Prefect flow",
            fast_flow["seconds"],
            "s",
        )
        section.measure(
            "what_if_ratio",
            "what-if prefect/plain (not judged)",
            fast_flow["seconds"] / fast_plain["seconds"],
            "x",
        )
        section.measure(
            "what_if_rss_mb",
            "what-if peak RSS plain / Prefect (VmHWM)",
            _peak(fast_plain),
            f"/ {_peak(fast_flow):.1f} MB",
        )
        for name, entry in sorted(fast_flow.get("tasks", {}).items()):
            section.measure(
                f"what_if_task_{name}", f"  what-if task {name} ×{entry['count']}", entry["seconds"], "s"
            )
        section.details.update(what_if)
    section.ratios += [
        Ratio(
            "prefect/parts (time)",
            flow["seconds"] / parts["seconds"],
            "<= 1.3",
            "the campaign close to the cost of its own parts",
        ),
        Ratio("prefect/plain (time)", flow["seconds"] / plain["seconds"], "<= 1.3", "orchestration overhead"),
        Ratio("peak RSS plain (MB)", rss["plain"], "< 300", "memory"),
        Ratio("peak RSS Prefect flow (MB)", rss["prefect"], "< 300", "memory"),
    ]
    section.details.update({"parts": parts, "plain": plain, "prefect": flow})
    return section
