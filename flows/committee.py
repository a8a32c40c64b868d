"""committee-digest and dashboard: what the committee reads."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from prefect import flow, get_run_logger, task
from prefect.states import State
from pydantic import BaseModel, ConfigDict, Field

from council.config import get_settings, using_proposal
from council.delivery.mail import SmtpMailer
from council.errors import INPUT_ERRORS
from council.rendering.run_reports import committee_summary
from council.rules.formatting import today_helsinki
from council.services.committee import write_status_report
from council.services.digest import DigestsFailed, send_digest, send_digests
from flows.common import ON_FAILURE, actor, form_day, form_title, refuse, report_done
from flows.status import publish_status
from models.fields import FI_DATE_OR_EMPTY_PATTERN


class DigestIn(BaseModel):
    """Viikkokooste valiokunnalle: viikon muutokset ja tilannekatsaus liitteenä."""

    model_config = ConfigDict(title="Viikkokooste")

    paiva: str = Field(
        default="",
        pattern=FI_DATE_OR_EMPTY_PATTERN,
        title="Päivä",
        description="Tyhjä = tänään (viikko päättyy tähän päivään); muuten muodossa 15.3.2021",
    )


@task(name="send-digest", retries=2, retry_delay_seconds=[5, 30])
def send_digest_task(today: date) -> str:
    settings = get_settings()
    return send_digest(settings, today=today, mailer=SmtpMailer(settings), actor=actor())


@flow(
    name="committee-digest",
    description="Lähettää valiokunnalle viikon muutokset ja tilannekatsauksen.",
    **ON_FAILURE,
)
def committee_digest(
    kooste: Annotated[DigestIn, form_title("Viikkokooste")] = DigestIn(),  # noqa: B008
) -> str | State:
    try:
        day = form_day(kooste.paiva)
    except INPUT_ERRORS as exc:
        return refuse(exc.refusal())
    def one(proposal_id: str) -> str:
        with using_proposal(proposal_id):
            return send_digest_task(day)

    try:
        results = send_digests(get_settings(), today=day, send_one=one)
    except DigestsFailed as exc:
        report_done(committee_summary(_said(exc.results), settings=get_settings()))
        raise
    message = _said(results)
    get_run_logger().info(message)
    report_done(committee_summary(message, settings=get_settings()))
    return message


def _said(results: dict[str, str]) -> str:
    if len(results) == 1:
        return next(iter(results.values()))
    return "\n".join(f"- {proposal_id}: {said}" for proposal_id, said in results.items())


@task(name="write-status-report")
def status_report_task() -> str:
    settings = get_settings()
    return str(write_status_report(settings, today=today_helsinki()))


@flow(
    name="dashboard",
    description=(
        "Päivittää kaikkien esitysten tilannesivut ja niiden luettelon, Prefect-artefaktit "
        "ja tilannekatsauksen (DOCX)."
    ),
    **ON_FAILURE,
)
def dashboard() -> dict:
    percent = publish_status()
    report = status_report_task()
    get_run_logger().info("Päätetty %d %%; tilannekatsaus: %s", percent, report)
    report_done(
        committee_summary(
            f"Päätetty {percent} % kohdista. Tilannekatsaus (DOCX): `{report}`", settings=get_settings()
        )
    )
    return {"percent": percent, "report": report}
