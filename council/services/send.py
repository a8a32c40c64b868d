"""Sending the proposal: render each body's documents, queue its email, deliver the queue.

Plain Python over the database and the file system; the ``send-proposal`` flow and the
``council send`` command both call these functions.
"""

from __future__ import annotations

import logging
import os
import socket
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Protocol

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, aliased

from council.config import Settings
from council.content.loading import load_proposal, load_roster, select_bodies
from council.delivery.mail import FileMailer, Mailer, OutgoingMail, RenderedMail, compose
from council.delivery.pdf import batch_pdf_copies, with_pdf_copies
from council.errors import CouncilError, MailDeliveryError, UnknownBodyError
from council.paths import inside, safe_filename
from council.perf import chunks
from council.rendering.attachments import PdfCopies, attach
from council.rendering.contexts import body_recipients, duty_description_context, proposal_context
from council.rendering.environment import DUTY_TEMPLATE, PROPOSAL_TEMPLATE
from council.rendering.render import render_docx, render_mail
from council.rules.formatting import fi_date, today_helsinki
from council.rules.reminders import response_deadline
from council.store.batches import (
    campaign_report,
    claim_batch,
    finish_batch,
    forget_campaign,
    plan_batches,
    release_unfinished,
    unfinished_claims,
)
from council.store.engine import checked_engine_for, engine_for
from council.store.outbox import (
    SENDING_LEASE,
    claim,
    find_messages,
    mark_delivered,
    mark_undelivered,
    never_delivered,
    outbox_content,
    queue_message,
    requeue_failed,
)
from council.store.proposals import proposal_content
from council.store.recipients import case_numbers, recipient_ids
from council.store.tracking import add_event, mark_reminded, mark_sent, sync_content
from models.clock import now
from models.contexts import MailPoint, ProposalMailContext
from models.enums import EventKind, MessageKind, MessageState
from models.results import DeliveryFailure, DeliveryReport, SendReport
from models.schemas import BodyIn, ProposalIn, RosterIn
from models.tables import Body, Message, Recipient

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FirstSendDocuments:
    """A body's first-send documents on disk, before their PDF copies and the covering email."""

    proposal: ProposalIn  # in the body's language
    body: BodyIn
    on: date
    reference: str | None
    reply_by: date
    documents: list[tuple[str, Path]]  # (label key in wording.yaml, DOCX)

    @property
    def paths(self) -> list[Path]:
        return [path for _, path in self.documents]


def render_first_send_documents(
    proposal: ProposalIn, body: BodyIn, folder: Path, *, on: date, reference: str | None = None
) -> FirstSendDocuments:
    """The proposal and the duty description (when the proposal has one) for one body, each with the
    committee's Dnro, the body's case number as "Viite" when ``reference`` is known, and the reply-by
    date (the body's response deadline counted from ``on``)."""
    from council.content.i18n import text, translated

    lang = body.language.value
    proposal = translated(proposal, lang)
    reply_by = response_deadline(on, proposal.reminder_policy.merged(body.reminder_policy))
    proposal_path = folder / safe_filename(text(lang, "file_proposal", name=body.name), ".docx")
    header = {"on": on, "reference": reference, "reply_by": reply_by}
    render_docx(PROPOSAL_TEMPLATE, proposal_context(proposal, body, **header), proposal_path, lang)
    documents = [("label_proposal", proposal_path)]
    if proposal.duty_description is not None:
        duty_path = folder / safe_filename(text(lang, "file_duty", name=body.name), ".docx")
        render_docx(DUTY_TEMPLATE, duty_description_context(proposal, body, **header), duty_path, lang)
        documents.append(("label_duty", duty_path))
    return FirstSendDocuments(proposal, body, on, reference, reply_by, documents)


def first_send_mail(docs: FirstSendDocuments, *, pdf_copies: PdfCopies | None = None) -> RenderedMail:
    """The covering email of the first send with the documents (and their PDF/A copies when
    ``pdf_copies`` gives them) and their JHS 143 description, numbered."""
    from council.rendering.contexts import body_context

    proposal, body = docs.proposal, docs.body
    attached = attach(
        docs.documents,
        proposal=proposal,
        body=body,
        on=docs.on,
        reference=docs.reference,
        pdf_copies=pdf_copies,
    )
    ctx = ProposalMailContext(
        body=body_context(body),
        diary_number=proposal.diary_number,
        reference=docs.reference,
        sender=proposal.sender,
        preparer=proposal.preparer,
        title=proposal.title,
        short_title=proposal.short_title,
        points=[MailPoint(number=p.number, short_title=p.short_title) for p in proposal.points],
        reply_by=fi_date(docs.reply_by),
        duties_point=proposal.duties_point,
        attachment_names=attached.lines,
    )
    return render_mail(
        "esitys",
        ctx,
        lang=body.language.value,
        body_id=body.id,
        recipients=body_recipients(body),
        attachments=attached.files,
    )


def render_first_send(
    proposal: ProposalIn,
    body: BodyIn,
    folder: Path,
    *,
    on: date,
    reference: str | None = None,
    pdf_copies: PdfCopies | None = None,
) -> RenderedMail:
    """Both DOCX documents (with PDF/A copies when ``pdf_copies`` makes them), their JHS 143
    description and the covering email of the first send, for one body (see
    :func:`render_first_send_documents` for what the documents carry)."""
    docs = render_first_send_documents(proposal, body, folder, on=on, reference=reference)
    return first_send_mail(docs, pdf_copies=pdf_copies)


def sync(settings: Settings, *, actor: str) -> tuple[ProposalIn, list[BodyIn]]:
    """Store the proposal as its import file under data/ has it (the stored content when there is no
    file) and the roster (idempotent); the proposal and its recipients."""
    source = settings.path(settings.data_dir) / "proposals" / f"{settings.proposal_id}.yaml"
    proposal = load_proposal(source) if source.is_file() else proposal_content(settings)
    roster = load_roster(settings.path(settings.roster_file))
    engine = checked_engine_for(settings)  # a missing SQLite file is refused, never created empty
    with Session(engine) as session, session.begin():
        sync_content(session=session, proposal=proposal, roster=roster, actor=actor)
    return proposal, recipient_bodies(settings, roster, [])


def recipient_bodies(settings: Settings, roster: RosterIn, body_ids: list[str]) -> list[BodyIn]:
    """The proposal's recipients named by ``body_ids`` (all of them when empty), in roster order; a
    named body that is not a recipient is refused. Before the proposal is stored (a dry run on a
    fresh set-up), the whole roster."""
    chosen = select_bodies(roster, body_ids)
    try:
        with Session(checked_engine_for(settings)) as session:
            ids = set(recipient_ids(session=session, proposal_id=settings.proposal_id))
    except CouncilError:
        ids = set()
    if not ids:
        return chosen
    if body_ids and (strangers := [b.name for b in chosen if b.id not in ids]):
        raise CouncilError(
            f"{strangers[0]} ei ole esityksen {settings.proposal_id} vastaanottaja. "
            "Vastaanottajat näkyvät komennolla council proposal show."
        )
    return [b for b in chosen if b.id in ids]


def prepare_proposal_messages(
    settings: Settings, body_ids: list[str], *, actor: str, on: date | None = None
) -> list[int]:
    """Render and queue the first-send message of each body that has none yet.

    Returns the outbox ids still to deliver (new or left queued by an earlier run); a body whose
    message was already sent is left alone, so running this twice queues nothing twice. A message
    that failed for good is rendered again with the roster's current address and queued again.

    The batch's documents are rendered first and converted to PDF/A in one LibreOffice run (a run
    costs seconds to start), then its messages are composed and queued in one transaction; a
    document that fails to render or convert queues nothing of the batch, and the next run renders
    it all again.
    """
    on = on or today_helsinki()
    proposal = proposal_content(settings)
    roster = load_roster(settings.path(settings.roster_file))
    bodies = recipient_bodies(settings, roster, body_ids)
    engine = engine_for(settings)
    with Session(engine) as session:
        existing = find_messages(
            session=session,
            proposal_id=proposal.id,
            kind=MessageKind.proposal,
            body_ids=[b.id for b in bodies],
        )
        existing_state = {body_id: m.state for body_id, m in existing.items()}
        references = case_numbers(session=session, proposal_id=proposal.id)
        existing_ids = {body_id: m.id for body_id, m in existing.items()}
        # Sent outside the service (a campaign taken over): sending it again would duplicate it.
        outside = set(
            session.scalars(
                select(Recipient.body_id).where(
                    Recipient.proposal_id == proposal.id, Recipient.sent_outside_on.is_not(None)
                )
            )
        )
    pending: list[int] = []
    todo: list[FirstSendDocuments] = []
    for body in bodies:
        if body.id in outside:
            log.info("%s: esitys on lähetetty palvelun ulkopuolella, ei lähetetä uudelleen", body.name)
            continue
        state = existing_state.get(body.id)
        if state is not None and state != MessageState.failed.value:
            if state in (MessageState.queued.value, MessageState.sending.value):
                pending.append(existing_ids[body.id])
            continue
        todo.append(
            render_first_send_documents(
                proposal,
                body,
                settings.body_dir(proposal.id, body.id),
                on=on,
                reference=references.get(body.id),
            )
        )
    pdf_copies = batch_pdf_copies(settings, [path for docs in todo for path in docs.paths])
    # Every message of the batch is composed first, then queued in one short transaction: a crash
    # before its commit queues nothing of the batch (and nothing was sent), and the next run
    # renders the batch again, as after a rendering error.
    composed = []
    for docs in todo:
        rendered = first_send_mail(docs, pdf_copies=pdf_copies)
        composed.append((docs.body, rendered, outbox_content(settings, rendered)))
    with Session(engine) as session, session.begin():
        for body, rendered, content in composed:
            if existing_state.get(body.id) == MessageState.failed.value:
                # Failed for good (e.g. 550 for a wrong address) and nobody got it: sending again is
                # what was asked for, with the roster's current address. One that may have reached
                # someone stays failed (see `still_failed`): a human decides.
                failed = session.get_one(Message, existing_ids[body.id])
                if never_delivered(session=session, message=failed) and requeue_failed(
                    session=session,
                    settings=settings,
                    message=failed,
                    mail=rendered,
                    actor=actor,
                    logical_date=on,
                    content=content,
                ):
                    pending.append(failed.id)
                continue
            message_pk, created = queue_message(
                session=session,
                settings=settings,
                proposal_id=proposal.id,
                kind=MessageKind.proposal,
                round_=0,
                mail=rendered,
                actor=actor,
                logical_date=on,
                content=content,
            )
            if created:
                for path in rendered.attachments:
                    add_event(
                        session=session,
                        kind=EventKind.document_generated,
                        actor=actor,
                        proposal_id=proposal.id,
                        body_id=body.id,
                        data={"file": str(path.relative_to(settings.outputs))},
                    )
            pending.append(message_pk)
    return pending


def _outgoing(settings: Settings, message: Message, language: str = "fi") -> OutgoingMail:
    return OutgoingMail(
        message_id=message.message_id,
        sender=settings.sender,
        sender_name=settings.sender_name,
        recipients=list(message.recipients),
        subject=message.subject,
        body_text=message.body_text,
        body_html=message.body_html,
        attachments=[inside(settings.outputs, a) for a in message.attachments],
        cc=tuple(message.cc or ()),
        language=language,
    )


def still_failed(settings: Settings, body_ids: list[str]) -> dict[str, DeliveryFailure]:
    """First-send messages of these bodies (all when empty) that are failed for good: label -> why."""
    with Session(engine_for(settings)) as session:
        stmt = select(Message.body_id, Message.last_error).where(
            Message.proposal_id == settings.proposal_id,
            Message.kind == MessageKind.proposal.value,
            Message.round == 0,
            Message.state == MessageState.failed.value,
        )
        if body_ids:
            stmt = stmt.where(Message.body_id.in_(body_ids))
        return {
            f"{body_id}/proposal/0": DeliveryFailure(state=MessageState.failed, error=error or "")
            for body_id, error in session.execute(stmt)
        }


def deliver_messages(
    settings: Settings,
    message_ids: list[int],
    mailer: Mailer,
    *,
    actor: str,
    respect_backoff: bool = False,
) -> DeliveryReport:
    """Send the given outbox messages over one mail session; each is claimed before sending.

    A message another run has claimed, or that is already sent, is skipped. A failure is recorded
    on the message (queued again for a later run, or failed after the last attempt) and does not
    stop the batch.
    """
    report = DeliveryReport()
    # One database session for the batch, each step its own transaction: the claim is committed
    # before the message goes on the wire, and the message is marked sent right after, so at most
    # the one message on the wire at a crash can go out twice (RELIABILITY.md).
    with mailer.session() as mail_session, Session(engine_for(settings), expire_on_commit=False) as session:
        for message_pk in message_ids:
            with session.begin():
                if not claim(session=session, message_id=message_pk, respect_backoff=respect_backoff):
                    report.skipped.append(str(message_pk))
                    continue
                # read after the claim: the row as claimed (kept past the commit, to be marked below)
                message = session.get_one(Message, message_pk, populate_existing=True)
                outgoing = None
                if message.wire is None:  # rows queued before migration 0004 carry no composed bytes
                    body = session.get(Body, message.body_id) if message.body_id else None
                    outgoing = _outgoing(settings, message, body.language if body else "fi")
            label = f"{message.body_id or 'valiokunta'}/{message.kind}/{message.round}"
            try:
                if outgoing is None:
                    mail_session.send_wire([*message.recipients, *(message.cc or [])], message.wire)
                else:
                    mail_session.send(compose(outgoing))
            except MailDeliveryError as exc:
                with session.begin():
                    state = mark_undelivered(
                        session=session,
                        message=message,
                        error=str(exc),
                        permanent=exc.permanent,
                        actor=actor,
                        maybe_delivered=exc.maybe_delivered,
                    )
                report.failed[label] = DeliveryFailure(state=state, error=str(exc))
                log.warning("Viestin %s lähetys epäonnistui: %s", label, exc)
                continue
            with session.begin():
                _record_delivered(session, message, actor=actor)
            report.sent.append(label)
    return report


def _record_delivered(session: Session, message: Message, *, actor: str) -> None:
    """``message`` went out: it is sent, and so is what it carries (the body's cells for a first
    send, each carried reminder round for a combined reminder)."""
    carried = mark_delivered(session=session, message=message, actor=actor)
    if message.kind == MessageKind.proposal.value:
        mark_sent(
            session=session,
            proposal_id=message.proposal_id,
            body_id=message.body_id,
            actor=actor,
            message_id=message.message_id,
        )
    elif message.kind in (MessageKind.reminder.value, MessageKind.combined_reminder.value):
        # a combined reminder reminds on each round it carries
        for reminded in carried if message.kind == MessageKind.combined_reminder.value else [message]:
            mark_reminded(
                session=session,
                proposal_id=reminded.proposal_id,
                body_id=message.body_id,
                actor=actor,
                message_id=message.message_id,
                round_=reminded.round,
            )


def dry_run(settings: Settings, body_ids: list[str], *, on: date | None = None) -> list[Path]:
    """Render everything and write the would-be emails as .eml under outputs/dry-run/.

    Nothing is stored in the database and nothing is sent.
    """
    on = on or today_helsinki()
    proposal = proposal_content(settings)
    roster = load_roster(settings.path(settings.roster_file))
    folder = settings.dry_run_dir
    mailer = FileMailer(folder / "mail")
    written: list[Path] = []
    with mailer.session() as mail_session:
        for body in recipient_bodies(settings, roster, body_ids):
            rendered = render_first_send(
                proposal,
                body,
                inside(folder, proposal.id, body.id),
                on=on,
                pdf_copies=lambda docs: with_pdf_copies(settings, docs),
            )
            mail_session.send(compose(rendered.outgoing(settings)))
            written += rendered.attachments
    return written


def undelivered(settings: Settings, proposal_id: str) -> list[Message]:
    carrier = aliased(Message)
    engine = engine_for(settings)
    with Session(engine) as session:
        return list(
            session.scalars(
                select(Message).where(
                    Message.proposal_id == proposal_id,
                    Message.state != MessageState.sent.value,
                    # a round carried by a combined email that went out was delivered with it
                    ~(
                        (Message.state == MessageState.carried.value)
                        & Message.carried_by.in_(
                            select(carrier.id).where(carrier.state == MessageState.sent.value)
                        )
                    ),
                )
            )
        )


class Pending(Protocol):
    """A delivery under way: the flow's submitted Prefect task, or one already done in line."""

    def result(self) -> DeliveryReport: ...


@dataclass(frozen=True)
class Done:
    """A delivery that ran in line (the CLI): its report is ready."""

    report: DeliveryReport

    def result(self) -> DeliveryReport:
        return self.report


class Helpers(Protocol):
    """Other runs started to share a send's batches (the flow starts ``send-proposal-part`` runs
    on other workers through Prefect; tests start threads)."""

    def cancel_unstarted(self) -> None:
        """Every batch is taken: a run that has not started yet is not needed."""

    def all_ended(self) -> bool: ...


class NoHelpers:
    """No other run shares the send (starting them failed)."""

    def cancel_unstarted(self) -> None:
        pass

    def all_ended(self) -> bool:
        return True


@dataclass(frozen=True)
class SendSteps:
    """How each step of a send runs: in line (:func:`inline_send_steps`) or as Prefect tasks
    (flows/send_proposal.py). The order of the steps is :func:`send_proposal`'s alone."""

    sync: Callable[[], list[str]]  # store the content; the roster's body ids
    prepare: Callable[[list[str]], list[int]]  # render and queue one batch; outbox ids to deliver
    deliver: Callable[[list[int]], Pending]  # start delivering those ids
    publish: Callable[[], None]  # dashboard (and the flow's artifacts)
    #: Start this many other runs that claim batches of a shared send (its key given); with none,
    #: this run sends every batch itself.
    start_helpers: Callable[[str, int], Helpers] | None = None
    helpers: int = 0
    #: Deliveries that may be under way at once: 1, unless ``deliver`` hands them to a delivery
    #: process that runs them one after another (council/services/delivery_process.py).
    in_flight: int = 1


def inline_send_steps(settings: Settings, mailer: Mailer, *, actor: str, on: date | None = None) -> SendSteps:
    """Every step in this process, one after the other (``council send``)."""
    from council.services.committee import write_dashboard_files

    return SendSteps(
        sync=lambda: [b.id for b in sync(settings, actor=actor)[1]],
        prepare=lambda batch: prepare_proposal_messages(settings, batch, actor=actor, on=on),
        deliver=lambda ids: Done(deliver_messages(settings, ids, mailer, actor=actor)),
        publish=lambda: write_dashboard_files(settings),
    )


def send_proposal(settings: Settings, body_ids: list[str], steps: SendSteps) -> SendReport:
    """Send the proposal to ``body_ids`` (all when empty): store the content, then render and queue
    batch by batch while the previous batch is delivered, publish the status, and list as failed
    what failed for good earlier and is not sent again (it may have reached some recipients).

    With helpers (``steps.helpers``), the batches are stored as a shared work list and this run
    and its helpers each claim the next one until none is left (:func:`send_part`).
    """
    all_ids = steps.sync()
    known = set(all_ids)
    unknown = [b for b in body_ids if b not in known]
    if unknown:  # refused before anything is rendered, sent or published
        raise UnknownBodyError(unknown[0], sorted(all_ids))
    targets = body_ids or all_ids
    total = SendReport(targets=len(targets))
    batches = chunks(targets, settings.batch_size)
    try:
        if steps.start_helpers is not None and steps.helpers > 0 and len(batches) > 1:
            total.add(_shared_send(settings, batches, steps))
        else:
            _pipeline(enumerate(batches), steps, lambda _, report: total.add(report))
    finally:
        steps.publish()
    for label, failure in still_failed(settings, targets).items():
        total.failed.setdefault(label, failure)
    return total


def _pipeline(
    batches: Iterable[tuple[int, list[str]]],
    steps: SendSteps,
    finished: Callable[[int, DeliveryReport], None],
) -> None:
    """Render and queue each batch while the ones before are delivered; ``finished`` gets each
    batch's position and report. At most ``steps.in_flight`` deliveries are under way (one, unless
    a delivery process takes them one after another), so one SMTP session is open at a time; a
    rendering error still collects the deliveries under way before it is raised."""
    delivering: deque[tuple[int, Pending]] = deque()
    try:
        for position, batch in batches:
            pending = steps.prepare(batch)
            while len(delivering) >= steps.in_flight:
                done, under_way = delivering.popleft()
                finished(done, under_way.result())
            if pending:
                delivering.append((position, steps.deliver(pending)))
            else:
                finished(position, DeliveryReport())
        while delivering:
            done, under_way = delivering.popleft()
            finished(done, under_way.result())
    finally:
        while delivering:  # rendering failed while deliveries ran: report what they sent
            done, under_way = delivering.popleft()
            try:
                finished(done, under_way.result())
            except Exception as exc:  # noqa: BLE001 - the rendering error is the one to raise
                log.warning("Kesken jäänyt lähetyserä epäonnistui: %s", exc)


def claimer_name() -> str:
    """Who claims a shared send's batches: this machine and process, unique per run."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def send_part(settings: Settings, campaign: str, steps: SendSteps, *, claimer: str) -> None:
    """Claim the next batch of the shared send ``campaign``, render, queue and deliver it, until
    every batch is taken (the ``send-proposal-part`` flow, and the run that started it)."""
    engine = engine_for(settings)

    def claimed() -> Iterator[tuple[int, list[str]]]:
        while True:
            with Session(engine) as session:
                batch = claim_batch(session=session, campaign=campaign, claimer=claimer)
            if batch is None:
                return
            yield batch

    def finished(position: int, report: DeliveryReport) -> None:
        with Session(engine) as session, session.begin():
            finish_batch(session=session, campaign=campaign, position=position, report=report)

    _pipeline(claimed(), steps, finished)


#: How often the run that shares a send looks whether its helpers are done.
HELPER_POLL_SECONDS = 0.25


def _shared_send(settings: Settings, batches: list[list[str]], steps: SendSteps) -> DeliveryReport:
    """Store the batches as a work list, start the helpers, take batches until none is left, then
    wait for the batches the helpers hold. A batch whose helper ended without finishing it, or has
    held it longer than the outbox's sending lease, is put back and sent here; the outbox keeps
    each email once either way. Returns every batch's report."""
    assert steps.start_helpers is not None
    engine = engine_for(settings)
    campaign, claimer = uuid.uuid4().hex, claimer_name()
    with Session(engine) as session, session.begin():
        plan_batches(session=session, campaign=campaign, batches=batches)
    try:
        helpers: Helpers = steps.start_helpers(campaign, min(steps.helpers, len(batches) - 1))
    except Exception as exc:  # noqa: BLE001 - e.g. the part deployment is not registered: send alone
        log.warning("Lähetystä ei voitu jakaa muille työntekijöille, lähetetään yksin: %s", exc)
        helpers = NoHelpers()
    try:
        while True:
            send_part(settings, campaign, steps, claimer=claimer)
            helpers.cancel_unstarted()
            if not _wait_for_helpers(engine, campaign, helpers, claimer):
                break
            log.warning("Toisen työntekijän kesken jättämät erät lähetetään tässä ajossa")
        with Session(engine) as session:
            return campaign_report(session=session, campaign=campaign)
    finally:
        helpers.cancel_unstarted()
        with Session(engine) as session, session.begin():
            forget_campaign(session=session, campaign=campaign)


def _wait_for_helpers(engine: Engine, campaign: str, helpers: Helpers, claimer: str) -> int:
    """Wait until no helper holds an unfinished batch. Returns how many batches were put back
    because their helper's run ended without finishing them or held them past the lease."""
    while True:
        with Session(engine) as session:
            held = {
                c: at
                for c, at in unfinished_claims(session=session, campaign=campaign).items()
                if c != claimer
            }
        if not held:
            return 0
        ended = helpers.all_ended()
        stale = [c for c, at in held.items() if ended or at < now() - SENDING_LEASE]
        if stale:
            with Session(engine) as session:
                return release_unfinished(session=session, campaign=campaign, claimers=stale)
        time.sleep(HELPER_POLL_SECONDS)
