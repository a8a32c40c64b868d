"""One side of the campaign benchmark, run in its own process by bench_campaign.

``python -m benchmarks.campaign_worker prefect|plain``; the settings come from the COUNCIL_*
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


def prefect() -> dict:
    """The send-proposal flow under a real temporary Prefect server; only the flow call is timed."""
    from council.config import get_settings
    from council.store.engine import upgrade

    settings = get_settings()
    upgrade(settings.effective_database_url)
    from prefect.testing.utilities import prefect_test_harness

    from flows.send_proposal import send_proposal

    harness_start = time.perf_counter()
    with prefect_test_harness(server_startup_timeout=180):
        harness_seconds = time.perf_counter() - harness_start
        start = time.perf_counter()
        state = send_proposal(return_state=True)
        seconds = time.perf_counter() - start
        totals = state.result()
        tasks = task_breakdown(state.state_details.flow_run_id)
    return {
        "seconds": seconds,
        "harness_start_seconds": harness_seconds,
        "sent": len(totals["sent"]),
        "failed": len(totals["failed"]),
        "tasks": tasks,
    }


def task_breakdown(flow_run_id) -> dict:  # noqa: ANN001 - a UUID
    """Run time per task name (from the Prefect API), waiting briefly for the last states to land."""
    from prefect import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    breakdown: dict = {}
    with get_client(sync_client=True) as client:
        for _ in range(20):
            runs = client.read_task_runs(
                flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id]))
            )
            if runs and all(r.state is not None and r.state.is_final() for r in runs):
                break
            time.sleep(0.5)
        for run in runs:
            name = run.task_key.rsplit("-", 1)[0] if not run.name else run.name.rsplit("-", 1)[0]
            entry = breakdown.setdefault(name, {"count": 0, "seconds": 0.0})
            entry["count"] += 1
            if run.start_time and run.end_time:
                entry["seconds"] += (run.end_time - run.start_time).total_seconds()
            else:
                entry["seconds"] += run.total_run_time.total_seconds()
    return breakdown


def main() -> None:
    side = sys.argv[1]
    if side.endswith("-compiled"):
        use_compiled_renderer()
    result = {"plain": plain, "prefect": prefect}[side.removesuffix("-compiled")]()
    result["side"] = side
    result["peak_rss_mb"] = peak_rss_mb()
    print("BENCH_RESULT " + json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
