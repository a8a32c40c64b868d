"""The follow-up use case: who is due a reminder today (:func:`find_due`), the reminder email and
the proposal regenerated with only the open points (:func:`render_reminder`), queued once per round
(:func:`prepare_reminders`), and one whole round sequenced by :func:`run_follow_up` for the CLI and
the flow alike. The rules of when a reminder is due are in :mod:`council.rules.reminders`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from council.config import Settings
from council.content.i18n import text, translated
from council.content.loading import load_roster
from council.delivery.mail import Mailer, RenderedMail
from council.delivery.pdf import batch_pdf_copies
from council.paths import safe_filename
from council.perf import chunks
from council.rendering.attachments import PdfCopies, attach
from council.rendering.contexts import body_context, body_recipients, proposal_context
from council.rendering.environment import PROPOSAL_TEMPLATE
from council.rendering.render import render_docx, render_mail
from council.rendering.wording import cell_note
from council.rules.formatting import fi_date
from council.rules.reminders import OPEN, BodyState, DueReminder, due_reminder, policies
from council.services.after_decision import prepare_confirmations
from council.services.stored import Prepared, one_message
from council.store.engine import engine_for
from council.store.matrix import read_states
from council.store.outbox import bodies_mailed_on, queue_message
from council.store.proposals import (
    active_ids,
    close_finished,
    proposal_content,
    proposals_with_pending_mail,
)
from council.store.recipients import case_numbers
from models.contexts import MailPointNote, ReminderMailContext
from models.enums import MessageKind, MessageState
from models.results import DeliveryFailure, DeliveryReport
from models.schemas import BodyIn, ProposalIn
from models.tables import Message


def find_due(settings: Settings, today: date, claimed: frozenset[str] = frozenset()) -> list[DueReminder]:
    """Every reminder due today for the settings' proposal, except to a body that gets another
    proposal's email today (queued already, or ``claimed`` by an earlier proposal's turn in this
    run): a body gets at most one email a day from the service, and its reminder waits a day."""
    proposal = proposal_content(settings)
    roster = load_roster(settings.path(settings.roster_file))
    per_body = policies(proposal, list(roster.bodies))
    with Session(engine_for(settings)) as session:
        states = read_states(session=session, proposal_id=proposal.id)
        busy = claimed | bodies_mailed_on(session=session, day=today, other_than=proposal.id)
    due = []
    for body in roster.bodies:
        state = states.get(body.id)
        if state is not None and body.id not in busy:
            reminder = due_reminder(state, per_body[body.id], today)
            if reminder is not None:
                due.append(reminder)
    return due


def _reminder_path(body: BodyIn, due: DueReminder, folder: Path) -> Path:
    return folder / safe_filename(
        text(body.language.value, "file_reminder", name=body.name, round=str(due.round)), ".docx"
    )


def render_reminder_document(
    proposal: ProposalIn,
    body: BodyIn,
    state: BodyState,
    due: DueReminder,
    folder: Path,
    *,
    on: date,
    reference: str | None = None,
) -> Path:
    """The proposal regenerated with only the open points, with the committee's Dnro, the body's
    case number as "Viite" when known and the reply-by date (the first send's deadline)."""
    lang = body.language.value
    proposal = translated(proposal, lang)
    decided = {c.point: cell_note(c, lang) or "" for c in state.cells if c.status not in OPEN}
    return render_docx(
        PROPOSAL_TEMPLATE,
        proposal_context(
            proposal,
            body,
            on=on,
            open_points=list(due.open_points),
            decided_notes=decided,
            reference=reference,
            reply_by=due.deadline,
        ),
        _reminder_path(body, due, folder),
        lang,
    )


def reminder_mail(
    proposal: ProposalIn,
    body: BodyIn,
    state: BodyState,
    due: DueReminder,
    folder: Path,
    *,
    on: date,
    reference: str | None = None,
    pdf_copies: PdfCopies | None = None,
) -> RenderedMail:
    """The reminder email with the rendered reminder document (and its PDF/A copy when
    ``pdf_copies`` gives it) and their JHS 143 description."""
    lang = body.language.value
    proposal = translated(proposal, lang)
    decided = {c.point: cell_note(c, lang) or "" for c in state.cells if c.status not in OPEN}
    attached = attach(
        [("label_reminder", _reminder_path(body, due, folder))],
        proposal=proposal,
        body=body,
        on=on,
        reference=reference,
        pdf_copies=pdf_copies,
    )
    cells = {c.point: c for c in state.cells}
    ctx = ReminderMailContext(
        body=body_context(body),
        diary_number=proposal.diary_number,
        reference=reference,
        sender=proposal.sender,
        preparer=proposal.preparer,
        title=proposal.title,
        short_title=proposal.short_title,
        round=due.round,
        sent_on=fi_date(state.sent_on) if state.sent_on else "",
        deadline=fi_date(due.deadline),
        open_points=[
            MailPointNote(number=n, short_title=proposal.point(n).short_title, note=cell_note(cells[n], lang))
            for n in due.open_points
        ],
        decided_points=[
            f"{n}. {proposal.point(n).short_title}: {note}" for n, note in sorted(decided.items())
        ],
        attachment_names=attached.lines,
    )
    return render_mail(
        "muistutus",
        ctx,
        lang=lang,
        body_id=body.id,
        recipients=body_recipients(body),
        attachments=attached.files,
        cc=list(due.cc),
    )


def prepare_reminders(settings: Settings, due: list[DueReminder], *, today: date, actor: str) -> Prepared:
    """Render and queue each due reminder (one outbox row per round); the ids to deliver, and the
    reminders that could not be made from what is stored (each fails alone)."""
    prepared = Prepared()
    if not due:
        return prepared
    proposal = proposal_content(settings)
    bodies = {b.id: b for b in load_roster(settings.path(settings.roster_file)).bodies}
    engine = engine_for(settings)
    with Session(engine) as session:
        states = read_states(session=session, proposal_id=proposal.id)
        references = case_numbers(session=session, proposal_id=proposal.id)

    def label(reminder: DueReminder) -> str:
        return f"{reminder.body_id}/{MessageKind.reminder.value}/{reminder.round}"

    # Every reminder document of the batch first, then their PDF/A copies in one LibreOffice run.
    documents, rendered_ok = [], []
    for r in due:
        with one_message(label(r), prepared):
            documents.append(
                render_reminder_document(
                    proposal,
                    bodies[r.body_id],
                    states[r.body_id],
                    r,
                    settings.body_dir(proposal.id, r.body_id),
                    on=today,
                    reference=references.get(r.body_id),
                )
            )
            rendered_ok.append(r)
    pdf_copies = batch_pdf_copies(settings, documents)
    for reminder in rendered_ok:
        body = bodies[reminder.body_id]
        with one_message(label(reminder), prepared):
            rendered = reminder_mail(
                proposal,
                body,
                states[body.id],
                reminder,
                settings.body_dir(proposal.id, body.id),
                on=today,
                reference=references.get(body.id),
                pdf_copies=pdf_copies,
            )
            with Session(engine) as session, session.begin():
                message_pk, _created = queue_message(
                    session=session,
                    settings=settings,
                    proposal_id=proposal.id,
                    kind=MessageKind.reminder,
                    round_=reminder.round,
                    mail=rendered,
                    actor=actor,
                    logical_date=today,
                )
            prepared.ids.append(message_pk)
    return prepared


def pending_message_ids(settings: Settings) -> list[int]:
    """Messages of the proposal still queued (or abandoned mid-send): retried by each follow-up run."""
    with Session(engine_for(settings)) as session:
        return list(
            session.scalars(
                select(Message.id)
                .where(
                    Message.proposal_id == settings.proposal_id,
                    Message.state.in_((MessageState.queued.value, MessageState.sending.value)),
                )
                .order_by(Message.id)
            )
        )


@dataclass
class FollowUpReport:
    today: date
    due: list[DueReminder]
    delivered: list[str] = field(default_factory=list)
    failed: dict[str, DeliveryFailure] = field(default_factory=dict)
    confirmations: int = 0
    duty_descriptions: int = 0


@dataclass(frozen=True)
class FollowOn:
    """What a follow-up round queued besides reminders."""

    duty_descriptions: int
    confirmations: int
    refused: dict[str, DeliveryFailure] = field(default_factory=dict)  # label -> why, each failed alone


@dataclass(frozen=True)
class FollowUpSteps:
    """How each step of a follow-up round runs: in line (:func:`inline_follow_up_steps`) or as
    Prefect tasks (flows/follow_up.py). The order is :func:`run_follow_up`'s alone."""

    find_due: Callable[[date, frozenset[str]], list[DueReminder]]  # day, bodies mailed today already
    prepare_reminders: Callable[[list[DueReminder], date], Prepared]
    prepare_follow_on: Callable[[date], FollowOn]  # duty descriptions and thank-yous not yet queued
    deliver_pending: Callable[[], DeliveryReport]  # everything still queued, respecting backoff
    publish: Callable[[date], None]


def prepare_follow_on(settings: Settings, *, today: date, actor: str) -> FollowOn:
    """Filled duty descriptions and thank-yous not yet queued (normally queued at recording time)."""
    from council.services.after_decision import prepare_duty_descriptions

    duty = prepare_duty_descriptions(settings, today=today, actor=actor)
    thanks = prepare_confirmations(settings, today=today, actor=actor)
    return FollowOn(len(duty.ids), len(thanks.ids), refused={**duty.refused, **thanks.refused})


def deliver_pending(settings: Settings, mailer: Mailer, *, actor: str) -> DeliveryReport:
    """Deliver every message of the proposal still queued (or abandoned mid-send), respecting backoff."""
    from council.services.send import deliver_messages

    return deliver_messages(
        settings, pending_message_ids(settings), mailer, actor=actor, respect_backoff=True
    )


def inline_follow_up_steps(settings: Settings, mailer: Mailer, *, actor: str) -> FollowUpSteps:
    """Every step in this process (``council follow-up``); the dashboard is written for ``today``."""
    from council.services.committee import write_dashboard_files

    return FollowUpSteps(
        find_due=lambda today, claimed: find_due(settings, today, claimed),
        prepare_reminders=lambda due, today: prepare_reminders(settings, due, today=today, actor=actor),
        prepare_follow_on=lambda today: prepare_follow_on(settings, today=today, actor=actor),
        deliver_pending=lambda: deliver_pending(settings, mailer, actor=actor),
        publish=lambda today: write_dashboard_files(settings, today=today),
    )


def run_follow_up(
    settings: Settings,
    *,
    today: date,
    mailer: Mailer | None = None,
    actor: str,
    dry_run: bool = False,
    steps: FollowUpSteps | None = None,
    claimed: frozenset[str] = frozenset(),
) -> FollowUpReport:
    """One follow-up round: queue due reminders (batch by batch), filled duty descriptions and
    thank-yous, deliver them and earlier leftovers, publish the status.

    With ``dry_run`` only the due reminders are computed; nothing is stored or sent. Without
    ``steps`` every step runs in this process over ``mailer``.
    """
    if steps is None:
        if mailer is None:
            raise ValueError("run_follow_up needs a mailer or steps")
        steps = inline_follow_up_steps(settings, mailer, actor=actor)
    due = steps.find_due(today, claimed)
    report = FollowUpReport(today=today, due=due)
    if dry_run:
        return report
    for batch in chunks(due, settings.batch_size):
        report.failed.update(steps.prepare_reminders(batch, today).refused)
    follow_on = steps.prepare_follow_on(today)
    report.confirmations, report.duty_descriptions = follow_on.confirmations, follow_on.duty_descriptions
    report.failed.update(follow_on.refused)
    delivery = steps.deliver_pending()
    report.delivered = delivery.sent
    report.failed.update(delivery.failed)
    steps.publish(today)
    return report


@dataclass
class FollowUpDay:
    """One day's follow-up over every active proposal: each proposal's report, in turn order, and
    the proposals closed because every point of every recipient became final."""

    today: date
    reports: dict[str, FollowUpReport] = field(default_factory=dict)
    closed: list[str] = field(default_factory=list)

    def total(self) -> FollowUpReport:
        """The day as one report: every proposal's reminders, deliveries, failures and thank-yous."""
        reports = self.reports.values()
        return FollowUpReport(
            today=self.today,
            due=[r for report in reports for r in report.due],
            delivered=[d for report in reports for d in report.delivered],
            failed={k: v for report in reports for k, v in report.failed.items()},
            confirmations=sum(r.confirmations for r in reports),
            duty_descriptions=sum(r.duty_descriptions for r in reports),
        )


def follow_up_day(
    settings: Settings,
    *,
    today: date,
    actor: str,
    run_one: Callable[[str, frozenset[str]], FollowUpReport],
    proposal_ids: list[str] | None = None,
    dry_run: bool = False,
    deliver_leftovers: Callable[[str], DeliveryReport] | None = None,
) -> FollowUpDay:
    """Run ``run_one(proposal_id, claimed)`` for every active proposal (or ``proposal_ids``), the
    oldest first; ``claimed`` holds the bodies an earlier proposal reminds today, so a body gets one
    email a day and another proposal's reminder waits for the next working day. Then the mail
    still queued for closed proposals goes out (``deliver_leftovers``), and each sent proposal whose
    every point is final is closed (neither in a dry run)."""
    with Session(engine_for(settings)) as session:
        ids = proposal_ids if proposal_ids is not None else active_ids(session=session)
    day = FollowUpDay(today=today)
    claimed: set[str] = set()
    for proposal_id in ids:
        report = run_one(proposal_id, frozenset(claimed))
        day.reports[proposal_id] = report
        claimed.update(r.body_id for r in report.due)
    if not dry_run and proposal_ids is None and deliver_leftovers is not None:
        # A closed proposal sends nothing new, but what it had queued (a thank-you, a retry after a
        # 4xx) is still delivered: the outbox delivers every queued message whatever the state.
        with Session(engine_for(settings)) as session:
            leftovers = proposals_with_pending_mail(session=session, other_than=ids)
        for proposal_id in leftovers:
            delivery = deliver_leftovers(proposal_id)
            day.reports[proposal_id] = FollowUpReport(
                today=today, due=[], delivered=delivery.sent, failed=dict(delivery.failed)
            )
    if not dry_run:
        with Session(engine_for(settings)) as session, session.begin():
            day.closed = close_finished(session=session, today=today, actor=actor)
    return day
