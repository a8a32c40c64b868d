"""committee-digest and dashboard: what the committee reads."""

from __future__ import annotations

from datetime import date

from prefect import flow, get_run_logger, task
from pydantic import BaseModel, Field

from council.config import get_settings
from council.delivery.mail import SmtpMailer
from council.rules.formatting import today_helsinki
from council.services.committee import write_status_report
from council.services.digest import send_digest
from flows.common import actor
from flows.status import publish_status


class DigestIn(BaseModel):
    """Viikkokooste valiokunnalle: viikon muutokset ja tilannekatsaus liitteenä."""

    paiva: date | None = Field(
        default=None, title="Päivä", description="Tyhjä = tänään (viikko päättyy tähän päivään)"
    )


@task(name="send-digest", retries=2, retry_delay_seconds=[5, 30])
def send_digest_task(today: date) -> str:
    settings = get_settings()
    return send_digest(settings, today=today, mailer=SmtpMailer(settings), actor=actor())


@flow(name="committee-digest", description="Lähettää valiokunnalle viikon muutokset ja tilannekatsauksen.")
def committee_digest(kooste: DigestIn = DigestIn()) -> str:  # noqa: B008
    message = send_digest_task(kooste.paiva or today_helsinki())
    get_run_logger().info(message)
    return message


@task(name="write-status-report")
def status_report_task() -> str:
    settings = get_settings()
    return str(write_status_report(settings, today=today_helsinki()))


@flow(name="dashboard", description="Päivittää tilannesivun, Prefect-artefaktit ja tilannekatsauksen (DOCX).")
def dashboard() -> dict:
    percent = publish_status()
    report = status_report_task()
    get_run_logger().info("Päätetty %d %%; tilannekatsaus: %s", percent, report)
    return {"percent": percent, "report": report}
