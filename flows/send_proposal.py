"""send-proposal: render each body's proposal and duty description, email them, mark `sent`."""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import replace
from typing import Annotated

from prefect import flow, get_run_logger, task
from prefect.states import State
from pydantic import ConfigDict, Field

from council.config import get_settings
from council.content.loading import load_roster
from council.delivery.mail import SmtpMailer
from council.delivery.pdf import pdf_warning
from council.errors import INPUT_ERRORS
from council.rendering.run_reports import send_summary
from council.services.delivery_process import IN_FLIGHT, DeliveryProcess, wanted
from council.services.send import (
    SendSteps,
    claimer_name,
    deliver_messages,
    dry_run,
    prepare_proposal_messages,
    send_part,
    sync,
)
from council.services.send import send_proposal as send_all
from flows.common import (
    ON_FAILURE,
    BodyName,
    ProposalForm,
    ProposalTitle,
    actor,
    body_ids,
    for_chosen_proposal,
    form_title,
    message_label,
    refuse,
    report_done,
)
from flows.scale_out import PART_DEPLOYMENT, PartRuns, other_workers
from flows.status import publish_status
from models.results import DeliveryReport


class SendProposalIn(ProposalForm):
    """Esityksen lähetys vastaanottajille."""

    model_config = ConfigDict(title="Esityksen lähetys")

    esitys: ProposalTitle = ""  # type: ignore[valid-type]
    vastaanottajat: list[BodyName] = Field(  # type: ignore[valid-type]
        default_factory=list,
        title="Vastaanottajat",
        description="Valitse kunnat, joille esitys lähetetään. Tyhjä valinta = kaikki vastaanottajat.",
        json_schema_extra={"uniqueItems": True},
    )
    kuivaharjoitus: bool = Field(
        default=False,
        title="Kuivaharjoitus",
        description="Tuota asiakirjat ja viestit kansioon outputs/dry-run lähettämättä mitään",
    )


@task(name="sync-content", retries=2, retry_delay_seconds=[2, 10])
def sync_content_task() -> list[str]:
    _, bodies = sync(get_settings(), actor=actor())
    return [b.id for b in bodies]


@task(name="prepare-batch", retries=2, retry_delay_seconds=[2, 10])
def prepare_batch(batch: list[str]) -> list[int]:
    return prepare_proposal_messages(get_settings(), batch, actor=actor())


#: The send's delivery process, when it has one (a large send: council/services/delivery_process.py).
_delivery: ContextVar[DeliveryProcess | None] = ContextVar("delivery", default=None)


@task(name="deliver-batch", retries=2, retry_delay_seconds=[5, 30])
def deliver_batch(message_ids: list[int]) -> DeliveryReport:
    settings = get_settings()
    if (process := _delivery.get()) is not None:
        return process.deliver(settings, message_ids, actor=actor())
    return deliver_messages(settings, message_ids, SmtpMailer(settings), actor=actor())


@flow(
    name="send-proposal", description="Lähettää esityksen ja toimenkuvamallin vastaanottajille.", **ON_FAILURE
)
@for_chosen_proposal
def send_proposal(
    lahetys: Annotated[SendProposalIn, form_title("Esityksen lähetys")] = SendProposalIn(),  # noqa: B008
) -> dict | State:
    """Send the proposal to the chosen bodies (all by default); nothing is sent twice."""
    params = lahetys
    logger = get_run_logger()
    settings = get_settings()
    try:
        chosen = body_ids(list(params.vastaanottajat))
    except INPUT_ERRORS as exc:
        return refuse(exc.refusal())
    if warning := pdf_warning(settings):
        logger.warning(warning)
    if params.kuivaharjoitus:
        files = dry_run(settings, chosen)
        logger.info("Kuivaharjoitus: %d asiakirjaa kansiossa outputs/dry-run", len(files))
        report_done(send_summary([], {}, [], dry_run_files=len(files), settings=settings))
        return {"dry_run": [str(f) for f in files]}
    # Batch N is delivered (a submitted task, mostly waiting on SMTP) while batch N+1 renders.
    # With other workers online in this run's work pool, each of them gets a send-proposal-part
    # run, and all take batches from one work list (README: "Useampi työntekijä").
    helpers = other_workers()
    if helpers:
        logger.info("Lähetys jaetaan %d muulle työntekijälle", helpers)
    steps = SendSteps(
        sync=sync_content_task,
        prepare=prepare_batch,
        deliver=deliver_batch.submit,
        publish=publish_status,
        start_helpers=lambda campaign, n: PartRuns.start(campaign, n, settings.proposal_id),
        helpers=helpers,
    )
    bodies = len(chosen) if chosen else len(load_roster(settings.path(settings.roster_file)).bodies)
    process = DeliveryProcess() if wanted(settings, bodies) else None
    token = _delivery.set(process)
    try:
        # the process delivers one batch after another: rendering need not wait for each delivery
        report = send_all(settings, chosen, replace(steps, in_flight=IN_FLIGHT) if process else steps)
    finally:
        _delivery.reset(token)
        if process is not None:
            process.close()
    logger.info(
        "Lähetetty %d, epäonnistui %d, ohitettu %d (jo lähetetty aiemmin: %d)",
        len(report.sent),
        len(report.failed),
        len(report.skipped),
        report.targets - len(report.sent) - len(report.failed) - len(report.skipped),
    )
    report_done(
        send_summary(
            [message_label(label, settings) for label in report.sent],
            {message_label(k, settings): v for k, v in report.failed_text().items()},
            [message_label(label, settings) for label in report.skipped],
            dry_run_files=None,
            settings=settings,
        )
    )
    if report.failed:
        details = "; ".join(f"{k}: {v}" for k, v in report.failed.items())
        raise RuntimeError(f"Osa viesteistä jäi lähettämättä: {details}")
    return {"sent": report.sent, "failed": report.failed_text(), "skipped": report.skipped}


@flow(
    name=PART_DEPLOYMENT.split("/")[0],
    description="Osa jaetusta lähetyksestä: ottaa send-proposal-ajon eriä, kunnes niitä ei ole jäljellä.",
    **ON_FAILURE,
)
@for_chosen_proposal
def send_proposal_part(
    esitys: Annotated[str, form_title("Esitys", "Esityksen tunniste")],
    kampanja: Annotated[
        str, form_title("Lähetys", "Jaetun lähetyksen tunniste (send-proposal-ajo antaa sen)")
    ],
) -> None:
    """Started by send-proposal on another worker: claim and send its batches until none is left."""
    steps = SendSteps(sync=list, prepare=prepare_batch, deliver=deliver_batch.submit, publish=lambda: None)
    send_part(get_settings(), kampanja, steps, claimer=claimer_name())
