"""Telling the coordinator that a run failed: one email per failed run, through the outbox.

A run refused for bad input says so in its own state and artifact and sends nothing; any other
failure (SMTP down for good, a database error, a bug) is worth an email, because nobody watches
the Prefect UI every day. The message is queued with the run as its key (kind ``run_failed``,
round derived from the run's id), so a hook that runs twice, or a retry, still sends one email;
one that cannot be delivered now stays queued for the next follow-up run.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy.orm import Session

from council.config import Settings
from council.delivery.mail import Mailer
from council.rendering.render import render_mail
from council.rules.formatting import HELSINKI, fi_date
from council.store.engine import engine_for
from council.store.outbox import queue_message
from council.store.proposals import proposal_content
from models.contexts import FailedRunMailContext
from models.enums import MessageKind

WHAT_TO_DO = (
    "Avaa ajo Prefectissa ja lue sen lokista virhe. Kun syy on korjattu (esim. SMTP-palvelin tai "
    "tietokanta taas käytettävissä), käynnistä ajo uudelleen: jo lähetettyä ei lähetetä toiseen kertaan."
)


def run_round(run_id: UUID) -> int:
    """The outbox round of a run's failure message: a stable number from the run's id (31 bits)."""
    return run_id.int % 2_000_000_000


def notify_failed_run(
    settings: Settings,
    *,
    deployment: str,
    run_name: str,
    run_id: UUID,
    error: str,
    run_url: str,
    failed_at: datetime,
    mailer: Mailer,
    actor: str,
) -> int:
    """Queue (once per run) and deliver the coordinator's email about a failed run; returns its id."""
    from council.services.send import deliver_messages

    proposal = proposal_content(settings)
    local = failed_at.astimezone(HELSINKI)
    context = FailedRunMailContext(
        sender=proposal.sender,
        short_title=proposal.short_title,
        deployment=deployment,
        run_name=run_name,
        failed_at=f"{fi_date(local.date())} klo {local.hour}.{local.minute:02d}",
        error=error[:2000] or "tuntematon virhe",
        what_to_do=WHAT_TO_DO,
        run_url=run_url,
    )
    recipient = str(settings.coordinator_email or settings.sender)
    with Session(engine_for(settings)) as session, session.begin():
        message_id, _ = queue_message(
            session=session,
            settings=settings,
            proposal_id=proposal.id,
            kind=MessageKind.run_failed,
            round_=run_round(run_id),
            mail=render_mail(
                "ajo_epaonnistui", context, body_id=None, recipients=[recipient], attachments=[]
            ),
            actor=actor,
        )
    deliver_messages(settings, [message_id], mailer, actor=actor)
    return message_id
