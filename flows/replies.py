"""read-replies: the registries' replies, from the committee's mailbox (when configured) and the drop
folder, every 15 minutes: each reply matched to its proposal and body, the body's case number stored."""

from __future__ import annotations

from prefect import flow, get_run_logger, task

from council.config import get_settings
from council.errors import CouncilError
from council.services.replies import ReadReplies, read_replies
from flows.common import ON_FAILURE, actor, push_choices, report_done


class MailboxUnreadable(CouncilError):
    """The committee's mailbox stopped answering (the drop folder was read all the same)."""

    advice = (
        "Tarkista postilaatikon asetukset (COUNCIL_IMAP_*) ja palvelimen tila. Seuraavat ajot yrittävät "
        "15 minuutin välein; uutta ilmoitusta ei lähetetä ennen kuin postilaatikko on välillä toiminut."
    )


@task(name="read-replies")
def read_replies_task() -> ReadReplies:
    # Not retried in place: the next scheduled run (15 minutes) is the retry.
    return read_replies(get_settings(), actor=actor(), mailbox_may_fail=True)


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
    if result.report.candidates:
        push_choices(get_settings())  # the confirm-candidates form lists the new findings
    if result.mailbox_error:
        logger.warning("Postilaatikkoa ei voitu lukea: %s", result.mailbox_error)
        if result.mailbox_was_ok:
            # The mailbox has just stopped answering: this run fails, and the coordinator gets one
            # email. The runs after it, every 15 minutes, complete with the warning until it answers.
            raise MailboxUnreadable(result.mailbox_error)
    return {
        "matched": result.report.matched,
        "unmatched": result.report.unmatched,
        "already_read": result.report.already_read,
        "candidates": result.report.candidates,
        "fetched": result.fetched,
        "mailbox_error": result.mailbox_error,
    }
