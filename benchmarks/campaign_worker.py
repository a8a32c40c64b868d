"""One side of the campaign benchmark, run in its own process by bench_campaign.

``python -m benchmarks.campaign_worker prefect|plain|parts``; the settings come from the COUNCIL_*
environment the parent sets (a synthetic roster, a fresh SQLite database, its own outputs folder
and SMTP server). Prints one line ``BENCH_RESULT {json}``: the timed seconds, the counts and the
peak RSS of this process.
"""

from __future__ import annotations

import json
import resource
import sys
import time


def peak_rss_mb() -> dict[str, float | None]:
    """Peak resident memory of this process, in MB.

    ``vmhwm`` (Linux /proc/self/status VmHWM) is this process image's own high-water mark and is
    the figure judged. ``ru_maxrss`` (resource.getrusage(RUSAGE_SELF)) is kept for reference, but on
    Linux it carries over the parent's high-water mark across fork + exec, so a child of a big
    parent reports at least the parent's peak.
    """
    vmhwm = None
    try:
        for line in open("/proc/self/status", encoding="ascii"):  # noqa: SIM115 - read once
            if line.startswith("VmHWM:"):
                vmhwm = int(line.split()[1]) / 1024
                break
    except OSError:
        pass
    return {
        "vmhwm": vmhwm,
        "ru_maxrss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def use_compiled_renderer() -> None:
    """What-if (``--campaign-compiled``): council.services.send renders with council.rendering.docx_fast's cache."""
    import council.services.send
    from council.content.i18n import localized
    from council.rendering.docx_fast import compiled
    from council.rendering.environment import TEMPLATES_DIR

    def render_docx(template_name, context, target, lang="fi"):  # noqa: ANN001, ANN202 - as rendering.render_docx
        path = TEMPLATES_DIR / localized(template_name, lang)
        return compiled(path).render_to(context.model_dump(), target)

    council.services.send.render_docx = render_docx  # type: ignore[assignment]


def plain() -> dict:
    """sync + prepare + deliver per batch, as the flow does, without Prefect (not even imported)."""
    from council.config import get_settings
    from council.delivery.mail import SmtpMailer
    from council.services.send import deliver_messages, prepare_proposal_messages, sync
    from council.store.engine import upgrade

    settings = get_settings()
    upgrade(settings.effective_database_url)
    start = time.perf_counter()
    _, bodies = sync(settings, actor="bench")
    ids = [b.id for b in bodies]
    sent: list[str] = []
    failed: dict[str, str] = {}
    for i in range(0, len(ids), settings.batch_size):
        pending = prepare_proposal_messages(settings, ids[i : i + settings.batch_size], actor="bench")
        if pending:
            report = deliver_messages(settings, pending, SmtpMailer(settings), actor="bench")
            sent += report.sent
            failed.update(report.failed)
    seconds = time.perf_counter() - start
    return {
        "seconds": seconds,
        "sent": len(sent),
        "failed": len(failed),
        "prefect_loaded": "prefect" in sys.modules,
    }


def parts() -> dict:
    """The campaign's own work alone, body by body, on the same bodies and messages: the compiled
    render of both documents, composing the message (covering email, JHS 143 description, MIME
    bytes) and streaming those bytes over one raw smtplib session. No database, no outbox, no
    Prefect: what the other two sides cost beyond this is the price of tracking and orchestration."""
    import smtplib

    from council.config import get_settings
    from council.delivery.mail import compose, envelope_recipients, wire_bytes
    from council.rules.formatting import today_helsinki
    from council.services.send import first_send_mail, render_first_send_documents, sync
    from council.store.engine import upgrade

    settings = get_settings()
    upgrade(settings.effective_database_url)
    proposal, bodies = sync(settings, actor="bench")  # the stored content, as the campaign reads it
    on = today_helsinki()
    folder = settings.outputs / "parts"
    spent = {"render": 0.0, "compose": 0.0, "send": 0.0}
    sent = 0
    start = time.perf_counter()
    with smtplib.SMTP(settings.effective_smtp_host, settings.effective_smtp_port, timeout=30) as smtp:
        for body in bodies:
            t0 = time.perf_counter()
            docs = render_first_send_documents(proposal, body, folder / body.id, on=on)
            t1 = time.perf_counter()
            message = compose(first_send_mail(docs).outgoing(settings))
            data, recipients = wire_bytes(message), envelope_recipients(message)
            t2 = time.perf_counter()
            smtp.sendmail(settings.sender, recipients, data)
            t3 = time.perf_counter()
            spent["render"] += t1 - t0
            spent["compose"] += t2 - t1
            spent["send"] += t3 - t2
            sent += 1
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "sent": sent, "failed": 0, "parts": spent}


def prefect() -> dict:
    """The send-proposal flow under a real temporary Prefect server; only the flow call is timed.

    As under `council run`, the council worker's fork server is there (started, like the Prefect
    server, before the clock): the flow's delivery process is forked from it
    (council/services/delivery_process.py). BENCH_NO_FORK_SERVER=1 leaves it out, as under a plain
    `prefect worker` (the delivery process then comes from a multiprocessing forkserver that this
    process starts and that imports the service while the flow renders)."""
    import os
    import shutil
    import tempfile
    from pathlib import Path

    from council.config import get_settings
    from council.forking import SOCKET_ENV
    from council.store.engine import upgrade

    settings = get_settings()
    upgrade(settings.effective_database_url)
    from prefect.testing.utilities import prefect_test_harness

    from council.worker.__main__ import ForkServerProcess
    from flows.send_proposal import send_proposal

    folder = Path(tempfile.mkdtemp(prefix="council-bench-forks-"))
    forks = ForkServerProcess(folder)
    harness_start = time.perf_counter()
    try:
        if os.environ.get("BENCH_NO_FORK_SERVER") != "1":
            forks.start()
            if forks.wait_ready():
                os.environ[SOCKET_ENV] = str(forks.path)
        with prefect_test_harness(server_startup_timeout=180):
            harness_seconds = time.perf_counter() - harness_start
            start = time.perf_counter()
            state = send_proposal(return_state=True)
            seconds = time.perf_counter() - start
            totals = state.result()
            tasks, timeline = task_breakdown(state.state_details.flow_run_id)
    finally:
        forks.stop()
        shutil.rmtree(folder, ignore_errors=True)
    return {
        "seconds": seconds,
        "harness_start_seconds": harness_seconds,
        "fork_server": SOCKET_ENV in os.environ,
        "sent": len(totals["sent"]),
        "failed": len(totals["failed"]),
        "tasks": tasks,
        "timeline": timeline,
    }


def task_breakdown(flow_run_id) -> tuple[dict, list]:  # noqa: ANN001 - a UUID
    """Run time per task name (from the Prefect API), waiting briefly for the last states to land, and
    when each task ran: [name, start, end] in seconds from the first task's start."""
    from prefect import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    breakdown: dict = {}
    timeline: list = []
    with get_client(sync_client=True) as client:
        for _ in range(20):
            runs = client.read_task_runs(
                flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id]))
            )
            if runs and all(r.state is not None and r.state.is_final() for r in runs):
                break
            time.sleep(0.5)
        first = min((r.start_time for r in runs if r.start_time), default=None)
        for run in sorted(runs, key=lambda r: r.start_time or r.expected_start_time):
            name = run.task_key.rsplit("-", 1)[0] if not run.name else run.name.rsplit("-", 1)[0]
            if first and run.start_time and run.end_time:  # when each task ran, from the first one's start
                timeline.append(
                    [name, round((run.start_time - first).total_seconds(), 3), round((run.end_time - first).total_seconds(), 3)]
                )
            entry = breakdown.setdefault(name, {"count": 0, "seconds": 0.0})
            entry["count"] += 1
            if run.start_time and run.end_time:
                entry["seconds"] += (run.end_time - run.start_time).total_seconds()
            else:
                entry["seconds"] += run.total_run_time.total_seconds()
    return breakdown, timeline


def main() -> None:
    side = sys.argv[1]
    if side.endswith("-compiled"):
        use_compiled_renderer()
    result = {"plain": plain, "prefect": prefect, "parts": parts}[side.removesuffix("-compiled")]()
    result["side"] = side
    result["peak_rss_mb"] = peak_rss_mb()
    print("BENCH_RESULT " + json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
