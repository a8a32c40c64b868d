"""follow-up: daily reminders to bodies with open points, thank-yous, and retries of queued mail."""

from __future__ import annotations

from datetime import date

from prefect import flow, get_run_logger, task
from pydantic import BaseModel, Field

from council.config import get_settings
from council.delivery.mail import SmtpMailer
from council.rules.formatting import today_helsinki
from council.rules.reminders import DueReminder
from council.services.after_decision import prepare_confirmations, prepare_duty_descriptions
from council.services.follow_up import find_due, pending_message_ids, prepare_reminders
from council.services.send import deliver_messages
from flows.common import actor, chunks
from flows.status import publish_status


class FollowUpIn(BaseModel):
    """Muistutusajo: lähettää erääntyneet muistutukset ja kiitokset sekä yrittää jonossa olevat uudelleen."""

    paiva: date | None = Field(
        default=None, title="Päivä", description="Tyhjä = tänään. Muu päivä vain kokeiluun ja simulointiin."
    )
    kuivaharjoitus: bool = Field(
        default=False, title="Kuivaharjoitus", description="Näytä kuka saisi muistutuksen, älä lähetä mitään."
    )


@task(name="select-due")
def select_due(today: date) -> list[DueReminder]:
    return find_due(get_settings(), today)


@task(name="prepare-reminders", retries=2, retry_delay_seconds=[2, 10])
def prepare_batch(due: list[DueReminder], today: date) -> list[int]:
    return prepare_reminders(get_settings(), due, today=today, actor=actor())


@task(name="prepare-follow-on", retries=2, retry_delay_seconds=[2, 10])
def prepare_thanks(today: date) -> int:
    """Thank-yous and filled duty descriptions not yet queued (normally queued at recording time)."""
    settings = get_settings()
    duty = prepare_duty_descriptions(settings, today=today, actor=actor())
    return len(prepare_confirmations(settings, today=today, actor=actor())) + len(duty)


@task(name="deliver-queued", retries=2, retry_delay_seconds=[5, 30])
def deliver_queued() -> dict:
    settings = get_settings()
    report = deliver_messages(
        settings, pending_message_ids(settings), SmtpMailer(settings), actor=actor(), respect_backoff=True
    )
    return {"sent": report.sent, "failed": report.failed}


@flow(
    name="follow-up",
    description="Päivittäinen seuranta: muistutukset, kiitokset ja epäonnistuneiden uusinta.",
)
def follow_up(ajo: FollowUpIn = FollowUpIn()) -> dict:  # noqa: B008
    logger = get_run_logger()
    settings = get_settings()
    today = ajo.paiva or today_helsinki()
    due = select_due(today)
    for reminder in due:
        logger.info(
            "%s: muistutus %d, avoimet kohdat %s%s",
            reminder.body_id,
            reminder.round,
            ", ".join(map(str, reminder.open_points)),
            f", kopio {', '.join(reminder.cc)}" if reminder.cc else "",
        )
    if ajo.kuivaharjoitus:
        return {"due": [r.body_id for r in due]}
    for batch in chunks(due, settings.batch_size):
        prepare_batch(batch, today)
    thanks = prepare_thanks(today)
    result = deliver_queued()
    for label, why in result["failed"].items():
        logger.warning("Lähetys epäonnistui: %s: %s", label, why)
    publish_status()
    logger.info("Muistutuksia %d, kiitoksia %d, lähetetty %d", len(due), thanks, len(result["sent"]))
    permanent = {k: v for k, v in result["failed"].items() if v.startswith("failed")}
    if permanent:
        raise RuntimeError(
            "Pysyvästi epäonnistuneet viestit: " + "; ".join(f"{k}: {v}" for k, v in permanent.items())
        )
    return {
        "due": [r.body_id for r in due],
        "sent": result["sent"],
        "failed": result["failed"],
        "thanks": thanks,
    }
