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
from council.services.committee import report_proposals, write_status_report
from council.services.digest import DigestsFailed, send_digests
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
def send_digest_task(today: date) -> dict[str, str]:
    """The week's digest of every sent proposal, one email where they share the committee's
    addresses (a retry reports what the first try left: sent, failed for good, or waiting)."""
    settings = get_settings()
    return send_digests(settings, today=today, mailer=SmtpMailer(settings), actor=actor())


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
    try:
        results = send_digest_task(day)
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
def status_report_task(proposal_id: str) -> str:
    with using_proposal(proposal_id):
        settings = get_settings()
        return str(write_status_report(settings, today=today_helsinki()))


@flow(
    name="dashboard",
    description=(
        "Päivittää kaikkien esitysten tilannesivut ja niiden luettelon, Prefect-artefaktit "
        "ja jokaisen seurannassa olevan esityksen tilannekatsauksen (DOCX)."
    ),
    **ON_FAILURE,
)
def dashboard() -> dict:
    percent = publish_status()
    settings = get_settings()
    reports = {proposal_id: status_report_task(proposal_id) for proposal_id in report_proposals(settings)}
    for proposal_id, path in reports.items():
        get_run_logger().info("Tilannekatsaus %s: %s", proposal_id, path)
    lines = [f"Päätetty {percent} % kohdista.", "", "Tilannekatsaukset (DOCX):"]
    lines += [f"- {proposal_id}: `{path}`" for proposal_id, path in reports.items()]
    report_done(committee_summary("\n".join(lines), settings=settings))
    return {
        "percent": percent,
        "report": reports.get(settings.proposal_id, next(iter(reports.values()))),
        "reports": reports,
    }
