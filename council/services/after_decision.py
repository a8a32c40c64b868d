"""What recorded decisions call for: the filled duty description when the duties point names a
liaison, the thank-you when a body's last point is decided (each once), then the dashboard files.
The flows and the CLI call :func:`after_decisions` after recording.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from council.config import Settings
from council.content.i18n import translated
from council.content.loading import load_roster
from council.delivery.pdf import with_pdf_copies
from council.rendering.attachments import attach
from council.rendering.contexts import (
    body_context,
    body_recipients,
    duty_description_context,
)
from council.rendering.environment import DUTY_TEMPLATE
from council.rendering.render import render_docx, render_mail
from council.rendering.wording import appointed_by, cell_note, duty_description_filled_name
from council.rules.reminders import BodyState
from council.services.committee import write_dashboard_files
from council.services.stored import Prepared, check_stored, one_message
from council.store.engine import engine_for
from council.store.matrix import read_states
from council.store.outbox import queue_message
from council.store.proposals import proposal_content
from council.store.recipients import case_numbers
from models.contexts import (
    ConfirmationMailContext,
    DutyMailContext,
    LiaisonContext,
)
from models.enums import DecisionStatus, EventKind, MessageKind
from models.results import DeliveryFailure
from models.schemas import BodyIn, ProposalIn
from models.tables import Decision, Event, Message


def prepare_duty_descriptions(settings: Settings, *, today: date, actor: str) -> Prepared:
    """For each body whose duties-point decision names a liaison: render its filled duty description and
    queue one email to the registry and the liaison — once per liaison: the outbox round counts the
    liaisons recorded for the body (0 for the first; a correction naming another person is round 1,
    a correction that keeps the person sends nothing). Nothing for a proposal without a duty
    description: no point of it names a liaison."""
    proposal = proposal_content(settings)
    if proposal.duty_description is None:
        return Prepared()
    bodies = {b.id: b for b in load_roster(settings.path(settings.roster_file)).bodies}
    with Session(engine_for(settings)) as session:
        done = set(
            session.execute(
                select(Message.body_id, Message.round).where(
                    Message.proposal_id == proposal.id, Message.kind == MessageKind.duty_description.value
                )
            ).all()
        )
        liaison_round: dict[str, int] = {}
        previous: dict[str, dict] = {}
        for body_id, data in session.execute(
            select(Event.body_id, Event.data)
            .where(
                Event.proposal_id == proposal.id,
                Event.kind == EventKind.decision_recorded.value,
                Event.point_number == proposal.duty_description.duties_point,
            )
            .order_by(Event.id)
        ):
            named = (data.get("new") or {}).get("liaison")
            if named and named != previous.get(body_id):
                liaison_round[body_id] = liaison_round.get(body_id, -1) + 1
                previous[body_id] = named
        references = case_numbers(session=session, proposal_id=proposal.id)
        cells = session.scalars(
            select(Decision).where(
                Decision.proposal_id == proposal.id,
                Decision.point_number == proposal.duty_description.duties_point,
                Decision.liaison.is_not(None),
                Decision.status.in_((DecisionStatus.decided.value, DecisionStatus.final.value)),
            )
        ).all()
        prepared = Prepared()
        todo = []
        for c in cells:
            body = bodies.get(c.body_id)
            round_ = liaison_round.get(c.body_id, 0)
            if body is None or (c.body_id, round_) in done:
                continue
            with one_message(f"{c.body_id}/{MessageKind.duty_description.value}/{round_}", prepared):
                check_stored(c, body.name)
                appointed = appointed_by(c.deciding_body, c.meeting_date, c.section)
                # "Viite": the body's case number from its registry, else the Dnro its decision was filed under.
                reference = references.get(c.body_id) or c.diary_number
                todo.append((body, round_, dict(c.liaison), appointed, reference))
    for body, round_, liaison, appointed, reference in todo:
        with one_message(f"{body.id}/{MessageKind.duty_description.value}/{round_}", prepared):
            message_pk = _queue_duty_description(
                settings, proposal, body, round_, liaison, appointed, reference, today=today, actor=actor
            )
            if message_pk is not None:
                prepared.ids.append(message_pk)
    return prepared


def _queue_duty_description(
    settings: Settings,
    proposal: ProposalIn,
    body: BodyIn,
    round_: int,
    liaison: dict,
    appointed: str,
    reference: str | None,
    *,
    today: date,
    actor: str,
) -> int | None:
    """Render one body's filled duty description and queue its email; the new outbox id, or None."""
    lang = body.language.value
    local = translated(proposal, lang)
    person = LiaisonContext(**{k: str(liaison[k]) for k in ("name", "title", "email", "work_time")})
    path = settings.body_dir(proposal.id, body.id) / duty_description_filled_name(body)
    render_docx(
        DUTY_TEMPLATE,
        duty_description_context(
            local, body, on=today, liaison=person, appointed_by=appointed, reference=reference
        ),
        path,
        lang,
    )
    attached = attach(
        [("label_duty_filled", path)],
        proposal=local,
        body=body,
        on=today,
        reference=reference,
        pdf_copies=lambda docs: with_pdf_copies(settings, docs),
    )
    ctx = DutyMailContext(
        body=body_context(body),
        sender=local.sender,
        preparer=local.preparer,
        short_title=local.short_title,
        diary_number=local.diary_number,
        reference=reference,
        duties_point=local.duty_description.duties_point,
        liaison=person,
        appointed_by=appointed,
        attachment_names=attached.lines,
    )
    with Session(engine_for(settings)) as session, session.begin():
        message_pk, created = queue_message(
            session=session,
            settings=settings,
            proposal_id=proposal.id,
            kind=MessageKind.duty_description,
            round_=round_,
            mail=render_mail(
                "toimenkuva",
                ctx,
                lang=lang,
                body_id=body.id,
                recipients=[str(body.registry_email), person.email],
                attachments=attached.files,
            ),
            actor=actor,
            logical_date=today,
        )
    return message_pk if created else None


def _existing_pdf_copies(documents: list[Path]) -> list[Path]:
    """The documents and the PDF/A copies already made of them (when their own message was sent)."""
    return [*documents, *(d.with_suffix(".pdf") for d in documents if d.with_suffix(".pdf").is_file())]


def prepare_confirmations(settings: Settings, *, today: date, actor: str) -> Prepared:
    """Queue one thank-you for each body whose every point is decided (once per body)."""
    proposal = proposal_content(settings)
    bodies = {b.id: b for b in load_roster(settings.path(settings.roster_file)).bodies}
    prepared = Prepared()
    with Session(engine_for(settings)) as session:
        states = read_states(session=session, proposal_id=proposal.id)
        references = case_numbers(session=session, proposal_id=proposal.id)
        duties = {
            cell.body_id: cell
            for cell in session.scalars(
                select(Decision).where(
                    Decision.proposal_id == proposal.id,
                    # Without a duty description no cell names a liaison; point 1's cell still
                    # gives the Dnro a body filed its decision under.
                    Decision.point_number == (proposal.duties_point or 1),
                )
            )
        }
        session.expunge_all()
    # "Viite" as in the duty description's own message: their case number, else the Dnro they
    # filed the duties point's decision under.
    for body_id, cell in duties.items():
        if cell.diary_number and body_id not in references:
            references[body_id] = cell.diary_number
    for body_id, state in states.items():
        body = bodies.get(body_id)
        if body is None or state.has_confirmation or state.open_cells:
            continue
        if any(c.outcome is None for c in state.cells):
            continue
        with one_message(f"{body_id}/{MessageKind.confirmation.value}/0", prepared):
            duty_cell = duties.get(body_id)
            if duty_cell is not None:
                check_stored(duty_cell, body.name)
            message_pk = _queue_confirmation(
                settings,
                proposal,
                body,
                state,
                duty_cell.liaison if duty_cell and proposal.duty_description is not None else None,
                references.get(body_id),
                today=today,
                actor=actor,
            )
            if message_pk is not None:
                prepared.ids.append(message_pk)
    return prepared


def _queue_confirmation(
    settings: Settings,
    proposal: ProposalIn,
    body: BodyIn,
    state: BodyState,
    liaison: dict | None,
    reference: str | None,
    *,
    today: date,
    actor: str,
) -> int | None:
    """Queue one body's thank-you; the new outbox id, or None when it was queued before."""
    lang = body.language.value
    local = translated(proposal, lang)
    duty = settings.body_dir(proposal.id, body.id) / duty_description_filled_name(body)
    attached = (
        attach(
            [("label_duty_filled", duty)],
            proposal=local,
            body=body,
            on=today,
            reference=reference,
            pdf_copies=_existing_pdf_copies,
        )
        if proposal.duty_description is not None and duty.is_file()
        else None
    )
    attachments = attached.files if attached else []
    ctx = ConfirmationMailContext(
        body=body_context(body),
        diary_number=local.diary_number,
        reference=reference,
        sender=local.sender,
        preparer=local.preparer,
        title=local.title,
        short_title=local.short_title,
        decisions=[
            f"{c.point}. {local.point(c.point).short_title}: {cell_note(c, lang)}" for c in state.cells
        ],
        liaison=f"{liaison['name']}, {liaison['title']} ({liaison['email']})" if liaison else None,
        attachment_names=attached.lines if attached else [],
    )
    with Session(engine_for(settings)) as session, session.begin():
        message_pk, created = queue_message(
            session=session,
            settings=settings,
            proposal_id=proposal.id,
            kind=MessageKind.confirmation,
            round_=0,
            mail=render_mail(
                "kiitos",
                ctx,
                lang=lang,
                body_id=body.id,
                recipients=body_recipients(body),
                attachments=attachments,
            ),
            actor=actor,
            logical_date=today,
        )
    return message_pk if created else None


@dataclass
class AfterReport:
    queued: list[int] = field(default_factory=list)
    sent: list[str] = field(default_factory=list)
    failed: dict[str, DeliveryFailure] = field(default_factory=dict)
    dashboard: tuple[Path, Path] | None = None


def after_decisions(settings: Settings, *, today: date, mailer, actor: str) -> AfterReport:
    """Queue and deliver what recorded decisions call for, then refresh the dashboard:
    the filled duty description when the duties point named a liaison, and the thank-you when a body's
    last point is decided (each once)."""
    from council.services.send import deliver_messages

    report = AfterReport()
    prepared = prepare_duty_descriptions(settings, today=today, actor=actor)
    prepared.add(prepare_confirmations(settings, today=today, actor=actor))
    report.queued, report.failed = prepared.ids, dict(prepared.refused)
    if report.queued:
        delivery = deliver_messages(settings, report.queued, mailer, actor=actor)
        report.sent = delivery.sent
        report.failed.update(delivery.failed)
    report.dashboard = write_dashboard_files(settings, today=today)
    return report
