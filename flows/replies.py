"""read-replies: the registries' replies, from the committee's mailbox (when configured) and the drop
folder, every 15 minutes: each reply matched to its proposal and body, the body's case number stored."""

from __future__ import annotations

from prefect import flow, get_run_logger, task

from council.config import get_settings
from council.services.replies import ReadReplies, read_replies
from flows.common import ON_FAILURE, actor, report_done


@task(name="read-replies", retries=2, retry_delay_seconds=[10, 60])
def read_replies_task() -> ReadReplies:
    return read_replies(get_settings(), actor=actor())


@flow(
    name="read-replies",
    description="Lukee kirjaamoiden vastaukset postilaatikosta ja saapuneiden kansiosta ja tallentaa asianumerot.",
    **ON_FAILURE,
)
def read_replies_flow() -> dict:
    result = read_replies_task()
    logger = get_run_logger()
    lines = result.lines()
    for line in lines:
        logger.info(line)
    report_done("\n".join(["## Kirjaamoiden vastaukset", "", *[f"- {line}" for line in lines]]))
    return {
        "matched": result.report.matched,
        "unmatched": result.report.unmatched,
        "already_read": result.report.already_read,
        "fetched": result.fetched,
    }
