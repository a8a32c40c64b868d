"""send-proposal: render each body's proposal and duty description, email them, mark `sent`."""

from __future__ import annotations

from prefect import flow, get_run_logger, task
from pydantic import BaseModel, Field

from council.config import get_settings
from council.delivery.mail import SmtpMailer
from council.services.send import deliver_messages, dry_run, prepare_proposal_messages, still_failed, sync
from flows.common import BodyName, actor, body_ids, chunks
from flows.status import publish_status


class SendProposalIn(BaseModel):
    """Esityksen lähetys vastaanottajille."""

    vastaanottajat: list[BodyName] = Field(  # type: ignore[valid-type]
        default_factory=list,
        title="Vastaanottajat",
        description="Valitse kunnat, joille esitys lähetetään. Tyhjä valinta = kaikki vastaanottajat.",
    )
    kuivaharjoitus: bool = Field(
        default=False,
        title="Kuivaharjoitus",
        description="Tuota asiakirjat ja viestit kansioon outputs/dry-run lähettämättä mitään.",
    )


@task(name="sync-content", retries=2, retry_delay_seconds=[2, 10])
def sync_content_task() -> list[str]:
    _, bodies = sync(get_settings(), actor=actor())
    return [b.id for b in bodies]


@task(name="prepare-batch", retries=2, retry_delay_seconds=[2, 10])
def prepare_batch(batch: list[str]) -> list[int]:
    return prepare_proposal_messages(get_settings(), batch, actor=actor())


@task(name="deliver-batch", retries=2, retry_delay_seconds=[5, 30])
def deliver_batch(message_ids: list[int]) -> dict:
    settings = get_settings()
    report = deliver_messages(settings, message_ids, SmtpMailer(settings), actor=actor())
    return {"sent": report.sent, "failed": report.failed, "skipped": report.skipped}


@flow(name="send-proposal", description="Lähettää esityksen ja toimenkuvamallin vastaanottajille.")
def send_proposal(lahetys: SendProposalIn = SendProposalIn()) -> dict:  # noqa: B008
    """Send the proposal to the chosen bodies (all by default); nothing is sent twice."""
    params = lahetys
    logger = get_run_logger()
    settings = get_settings()
    chosen = body_ids(list(params.vastaanottajat))
    if params.kuivaharjoitus:
        files = dry_run(settings, chosen)
        logger.info("Kuivaharjoitus: %d asiakirjaa kansiossa outputs/dry-run", len(files))
        return {"dry_run": [str(f) for f in files]}
    all_ids = sync_content_task()
    targets = chosen or all_ids
    totals: dict = {"sent": [], "failed": {}, "skipped": []}

    def add(result: dict) -> None:
        totals["sent"] += result["sent"]
        totals["failed"].update(result["failed"])
        totals["skipped"] += result["skipped"]

    # A pipeline of two: batch N is delivered (mostly waiting on SMTP) in a worker thread while
    # batch N+1 is rendered here. At most one delivery runs at a time, so one SMTP session is open.
    delivering = None
    try:
        for batch in chunks(targets, settings.batch_size):
            pending = prepare_batch(batch)
            if delivering is not None:
                add(delivering.result())
                delivering = None
            if pending:
                delivering = deliver_batch.submit(pending)
        if delivering is not None:
            add(delivering.result())
            delivering = None
    finally:
        if delivering is not None:  # rendering failed while a delivery ran: report what it sent
            try:
                add(delivering.result())
            except Exception as exc:  # noqa: BLE001 - the rendering error is the one to raise
                logger.warning("Kesken jäänyt lähetyserä epäonnistui: %s", exc)
        publish_status()
    # Failed for good earlier and not sent again (it may have reached some recipients): still open.
    for label, why in still_failed(settings, targets).items():
        totals["failed"].setdefault(label, why)
    logger.info(
        "Lähetetty %d, epäonnistui %d, ohitettu %d (jo lähetetty aiemmin: %d)",
        len(totals["sent"]),
        len(totals["failed"]),
        len(totals["skipped"]),
        len(targets) - len(totals["sent"]) - len(totals["failed"]) - len(totals["skipped"]),
    )
    if totals["failed"]:
        details = "; ".join(f"{k}: {v}" for k, v in totals["failed"].items())
        raise RuntimeError(f"Osa viesteistä jäi lähettämättä: {details}")
    return totals
