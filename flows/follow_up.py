"""follow-up: daily reminders to bodies with open points, thank-yous, and retries of queued mail."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from prefect import flow, get_run_logger, task
from prefect.states import State
from pydantic import BaseModel, ConfigDict, Field

from council.config import get_settings, using_proposal
from council.delivery.mail import SmtpMailer
from council.errors import INPUT_ERRORS
from council.rendering.run_reports import follow_up_summary
from council.rules.reminders import DueReminder
from council.services.follow_up import (
    FollowOn,
    FollowUpReport,
    FollowUpSteps,
    Shared,
    deliver_pending,
    find_due,
    follow_up_day,
    prepare_follow_on,
    prepare_reminders,
    remind_combined,
    run_follow_up,
)
from council.services.stored import Prepared
from flows.common import ON_FAILURE, actor, body_name, form_day, form_title, refuse, report_done
from flows.status import publish_status
from models.fields import FI_DATE_OR_EMPTY_PATTERN
from models.results import DeliveryReport


class FollowUpIn(BaseModel):
    """Muistutusajo: lähettää erääntyneet muistutukset ja kiitokset sekä yrittää jonossa olevat uudelleen."""

    model_config = ConfigDict(title="Seuranta-ajo")

    paiva: str = Field(
        default="",
        pattern=FI_DATE_OR_EMPTY_PATTERN,
        title="Päivä",
        description="Tyhjä = tänään; muu päivä muodossa 15.3.2021 vain kokeiluun",
    )
    kuivaharjoitus: bool = Field(
        default=False, title="Kuivaharjoitus", description="Näytä kuka saisi muistutuksen, älä lähetä mitään"
    )


@task(name="select-due")
def select_due(today: date, claimed: frozenset[str]) -> list[DueReminder]:
    return find_due(get_settings(), today, claimed)


@task(name="prepare-reminders", retries=2, retry_delay_seconds=[2, 10])
def prepare_batch(due: list[DueReminder], today: date) -> Prepared:
    return prepare_reminders(get_settings(), due, today=today, actor=actor())


@task(name="prepare-follow-on", retries=2, retry_delay_seconds=[2, 10])
def prepare_thanks(today: date) -> FollowOn:
    """Thank-yous and filled duty descriptions not yet queued (normally queued at recording time)."""
    return prepare_follow_on(get_settings(), today=today, actor=actor())


@task(name="deliver-queued", retries=2, retry_delay_seconds=[5, 30])
def deliver_queued() -> DeliveryReport:
    settings = get_settings()
    return deliver_pending(settings, SmtpMailer(settings), actor=actor())


@task(name="combined-reminders", retries=2, retry_delay_seconds=[5, 30])
def combined_reminders(shared: Shared, today: date) -> DeliveryReport:
    """One email to each body that several proposals remind today (exactly once per round)."""
    settings = get_settings()
    return remind_combined(settings, shared, SmtpMailer(settings), today=today, actor=actor())


STEPS = FollowUpSteps(
    find_due=select_due,
    prepare_reminders=prepare_batch,
    prepare_follow_on=prepare_thanks,
    deliver_pending=deliver_queued,
    # The dashboard shows the real today even when a simulated day is run.
    publish=lambda _today: publish_status(),
)


@flow(
    name="follow-up",
    description="Päivittäinen seuranta: muistutukset, kiitokset ja epäonnistuneiden uusinta.",
    **ON_FAILURE,
)
def follow_up(
    ajo: Annotated[FollowUpIn, form_title("Seuranta-ajo")] = FollowUpIn(),  # noqa: B008
) -> dict | State:
    logger = get_run_logger()
    try:
        today = form_day(ajo.paiva)
    except INPUT_ERRORS as exc:
        return refuse(exc.refusal())

    def one(proposal_id: str, claimed: frozenset[str]) -> FollowUpReport:
        with using_proposal(proposal_id):
            return run_follow_up(
                get_settings(),
                today=today,
                actor=actor(),
                dry_run=ajo.kuivaharjoitus,
                steps=STEPS,
                claimed=claimed,
            )

    def leftovers(proposal_id: str) -> DeliveryReport:
        with using_proposal(proposal_id):
            return deliver_queued()

    settings = get_settings()
    day = follow_up_day(
        settings,
        today=today,
        actor=actor(),
        run_one=one,
        combine=lambda shared: combined_reminders(shared, today),
        dry_run=ajo.kuivaharjoitus,
        deliver_leftovers=leftovers,
    )
    report = day.total()
    several = len(day.reports) > 1
    reminded = [
        (f"{proposal_id}: " if several else "")
        + f"{body_name(r.body_id, settings)}: muistutus {r.round}, avoimet kohdat {', '.join(map(str, r.open_points))}"
        + (f", kopio {', '.join(r.cc)}" if r.cc else "")
        for proposal_id, one_report in day.reports.items()
        for r in one_report.due
    ]
    reminded += [
        f"{body_name(body_id, settings)}: yksi muistutusviesti esityksistä {', '.join(proposal_ids)}"
        for body_id, proposal_ids in day.combined.items()
    ]
    reminded += [f"Esitys {proposal_id} päättyi: kaikki kohdat on päätetty." for proposal_id in day.closed]
    for line in reminded:
        logger.info(line)
    failed = {k: str(v) for k, v in report.failed.items()}
    thanks = report.confirmations + report.duty_descriptions
    report_done(
        follow_up_summary(
            today,
            reminded,
            thanks=thanks,
            sent=len(report.delivered),
            failed=failed,
            dry_run=ajo.kuivaharjoitus,
            settings=get_settings(),
        )
    )
    if ajo.kuivaharjoitus:
        return {"due": [r.body_id for r in report.due]}
    for label, why in report.failed.items():
        logger.warning("Lähetys epäonnistui: %s: %s", label, why)
    logger.info("Muistutuksia %d, kiitoksia %d, lähetetty %d", len(report.due), thanks, len(report.delivered))
    permanent = {k: v for k, v in report.failed.items() if v.permanent}
    if permanent:
        raise RuntimeError(
            "Pysyvästi epäonnistuneet viestit: " + "; ".join(f"{k}: {v}" for k, v in permanent.items())
        )
    return {
        "due": [r.body_id for r in report.due],
        "sent": report.delivered,
        "failed": failed,
        "thanks": thanks,
    }
