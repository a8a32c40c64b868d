"""Benchmarks of the service: ``python -m benchmarks.run`` from the project folder (``make bench``).

Every figure is a RATIO against a baseline measured side by side in the same run, so a slower or
busier machine moves both sides alike. Sections (see BENCHMARKS.md for what each ratio means):

* documents — compiled DOCX renderer vs the zip-copy floor and vs naive docxtpl;
* email     — the project's mailer vs prepared messages over one raw smtplib session;
* growth    — follow-up selection and dashboard at 1,000 vs 10,000 bodies (time, SQL statements);
* campaign  — send-proposal to 329 bodies through Prefect vs a plain loop (time, peak RSS);
* startup   — `council run --no-send` until ready vs a bare `prefect server start` until healthy;
* workers   — the campaign on PostgreSQL with two process workers vs one (wall, the machine's CPU).

Prints the machine and each section, and writes the same results to outputs/benchmarks.json.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from benchmarks import (
    bench_campaign,
    bench_documents,
    bench_email,
    bench_growth,
    bench_startup,
    bench_workers,
)
from benchmarks.common import Section, machine
from council.config import PROJECT_ROOT

SECTIONS = ("documents", "email", "growth", "campaign", "startup", "workers")


def _section(name: str, quick: bool, what_if: bool = False, batch_size: int | None = None) -> Section:
    if name == "documents":
        return bench_documents.run(documents=20 if quick else 60, repeats=3 if quick else 5)
    if name == "email":
        return bench_email.run(messages=50 if quick else 200, repeats=3)
    if name == "growth":
        return bench_growth.run(sizes=(200, 2_000) if quick else (1_000, 10_000), repeats=3 if quick else 5)
    if name == "campaign":
        return bench_campaign.run(
            bodies=40 if quick else 329,
            batch_size=batch_size or (10 if quick else 50),
            what_if_compiled=what_if,
        )
    if name == "startup":
        return bench_startup.run(repeats=2 if quick else 3)
    if name == "workers":
        return bench_workers.run(
            bodies=40 if quick else 329, batch_size=5 if quick else 25, rounds=1 if quick else 3
        )
    raise ValueError(name)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--only", choices=SECTIONS, action="append", help="run only this section (repeatable)"
    )
    parser.add_argument("--quick", action="store_true", help="smaller sizes: a smoke test, not the figures")
    parser.add_argument(
        "--campaign-compiled",
        action="store_true",
        help="campaign: also run both sides with council.docx_fast as the DOCX renderer (a what-if)",
    )
    parser.add_argument(
        "--campaign-batch-size", type=int, help="campaign: COUNCIL_BATCH_SIZE (default 50; 10 with --quick)"
    )
    parser.add_argument(
        "--output", type=Path, default=PROJECT_ROOT / "outputs" / "benchmarks.json", help="JSON results file"
    )
    args = parser.parse_args(argv)
    names = args.only or list(SECTIONS)

    info = machine()
    info["load_average_start"] = list(os.getloadavg())
    started = datetime.now(UTC)
    print(f"council benchmarks, {started:%Y-%m-%d %H:%M} UTC{' (quick)' if args.quick else ''}")
    print(f"  CPU     {info['cpu']} — {info['cores']} cores ({info['usable_cores']} usable)")
    print(
        f"  Python  {info['python']} ({info['implementation']}), SQLite {info['sqlite']}, {info['platform']}"
    )
    print("  packages " + ", ".join(f"{k} {v}" for k, v in info["packages"].items()))
    print("  load average at start: " + " ".join(f"{x:.2f}" for x in info["load_average_start"]))

    sections: list[Section] = []
    total = time.perf_counter()
    for name in names:
        start = time.perf_counter()
        section = _section(name, args.quick, args.campaign_compiled, args.campaign_batch_size)
        section.seconds = time.perf_counter() - start
        section.print()
        sections.append(section)
        sys.stdout.flush()
    info["load_average_end"] = list(os.getloadavg())
    elapsed = time.perf_counter() - total

    print("\n== summary")
    ratios = [(s.name, r) for s in sections for r in s.ratios]
    for section_name, ratio in ratios:
        print(f"  {section_name:<10}" + ratio.line().lstrip())
    missed = [r for _, r in ratios if not r.passed]
    print(
        f"  {len(ratios) - len(missed)}/{len(ratios)} goals met; {elapsed:.0f} s; "
        "load average at end: " + " ".join(f"{x:.2f}" for x in info["load_average_end"])
    )

    args.output.parent.mkdir(parents=True, exist_ok=True)
    results = {
        "command": "make bench  (.venv/bin/python -m benchmarks.run"
        + (" --quick" if args.quick else "")
        + ")",
        "started_at": started.isoformat(),
        "seconds": round(elapsed, 1),
        "quick": args.quick,
        "machine": info,
        "sections": {s.name: s.as_dict() for s in sections},
        "goals_met": len(ratios) - len(missed),
        "goals_total": len(ratios),
    }
    tmp = args.output.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(results, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")
    os.replace(tmp, args.output)
    print(f"  results: {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
