"""The follow-up engine: who is due a reminder today, what it says, and the closing thank-you.

Rules (all per proposal, each body may override the policy, see ``ReminderPolicyIn``):

* reminder *n* is due on ``sent + first_after_days + (n-1)·interval_days``, but never sooner than
  ``interval_days`` after the previous reminder; a due day in a quiet period (weekend, Finnish
  public holiday, July) moves to the next working day, and nothing goes out on a quiet day;
* at most ``max_reminders``; from reminder ``escalate_after + 1`` on, the escalation address is
  copied;
* a body whose points are all decided gets no reminder; a body with an open point on the agenda
  of a meeting today or later is not reminded before the day after that meeting (nor on the day a
  point was tabled or returned);
* each reminder round is one outbox row (proposal, body, "reminder", n): a rerun on the same day,
  a task retry or two runs at once cannot make a second one.

The due bodies are selected in one SQL statement, whatever their number.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from pydantic import BaseModel
from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from council.calendar import is_quiet, next_working_day
from council.config import Settings
from council.content import load_proposal_by_id, load_roster
from council.db import make_engine
from council.filters import fi_date
from council.i18n import outcome_label, text, translated
from council.outbox import queue_message
from council.paths import safe_filename
from council.pdf import with_pdf_copies
from council.perf import gc_paused
from council.rendering import (
    PROPOSAL_TEMPLATE,
    body_context,
    body_recipients,
    proposal_context,
    render_docx,
    render_mail,
)
from models.contexts import BodyContext
from models.enums import DecisionStatus, MessageKind, MessageState
from models.schemas import BodyIn, ProposalIn, ReminderPolicyIn
from models.tables import Decision, Message

OPEN = (DecisionStatus.sent.value, DecisionStatus.reminded.value, DecisionStatus.on_agenda.value)


@dataclass(frozen=True)
class Cell:
    point: int
    status: str
    outcome: str | None
    meeting_date: date | None
    section: int | None


@dataclass
class BodyState:
    """What the follow-up needs to know of one body, read in the one query."""

    body_id: str
    sent_on: date | None
    reminders: int
    last_reminder_on: date | None
    has_confirmation: bool
    cells: list[Cell] = field(default_factory=list)

    @property
    def open_cells(self) -> list[Cell]:
        return [c for c in self.cells if c.status in OPEN]


@dataclass(frozen=True)
class DueReminder:
    body_id: str
    round: int
    due_on: date
    open_points: tuple[int, ...]
    cc: tuple[str, ...]
    deadline: date


def reminder_due_on(n: int, sent_on: date, last_on: date | None, policy: ReminderPolicyIn) -> date:
    """The day reminder ``n`` (1-based) falls due."""
    nominal = sent_on + timedelta(days=policy.first_after_days + (n - 1) * policy.interval_days)
    if last_on is not None:
        nominal = max(nominal, last_on + timedelta(days=policy.interval_days))
    return next_working_day(nominal, policy)


def read_states(*, session: Session, proposal_id: str) -> dict[str, BodyState]:
    """Every body's cells and message history for the proposal, in one SQL statement."""
    is_proposal_sent = and_(
        Message.kind == MessageKind.proposal.value, Message.state == MessageState.sent.value
    )
    is_reminder = Message.kind == MessageKind.reminder.value
    messages = (
        select(
            Message.body_id.label("body_id"),
            func.max(case((is_proposal_sent, Message.logical_date))).label("sent_on"),
            func.count(case((is_reminder, Message.id))).label("reminders"),
            func.max(case((is_reminder, Message.logical_date))).label("last_reminder_on"),
            func.count(case((Message.kind == MessageKind.confirmation.value, Message.id))).label(
                "confirmations"
            ),
        )
        .where(Message.proposal_id == proposal_id)
        .group_by(Message.body_id)
        .subquery()
    )
    rows = session.execute(
        select(
            Decision.body_id,
            Decision.point_number,
            Decision.status,
            Decision.outcome,
            Decision.meeting_date,
            Decision.section,
            messages.c.sent_on,
            messages.c.reminders,
            messages.c.last_reminder_on,
            messages.c.confirmations,
        )
        .outerjoin(messages, messages.c.body_id == Decision.body_id)
        .where(Decision.proposal_id == proposal_id)
        .order_by(Decision.body_id, Decision.point_number)
    )
    states: dict[str, BodyState] = {}
    with gc_paused():
        _collect_states(rows, states)
    return states


def _collect_states(rows, states: dict[str, BodyState]) -> None:  # noqa: ANN001 - SQLAlchemy rows
    for row in rows:
        state = states.get(row.body_id)
        if state is None:
            state = states[row.body_id] = BodyState(
                body_id=row.body_id,
                sent_on=row.sent_on,
                reminders=row.reminders or 0,
                last_reminder_on=row.last_reminder_on,
                has_confirmation=bool(row.confirmations),
            )
        state.cells.append(Cell(row.point_number, row.status, row.outcome, row.meeting_date, row.section))


def due_reminder(
    state: BodyState, policy: ReminderPolicyIn, today: date, registry_cc: tuple[str, ...] = ()
) -> DueReminder | None:
    """The reminder ``state``'s body is due today, or None (pure: no database, no clock)."""
    if state.sent_on is None or not state.open_cells or is_quiet(today, policy):
        return None
    # Not on or before the day of a meeting that has (or had today) an open point on its agenda.
    if any(c.meeting_date and c.meeting_date >= today for c in state.open_cells):
        return None
    n = state.reminders + 1
    if n > policy.max_reminders:
        return None
    due_on = reminder_due_on(n, state.sent_on, state.last_reminder_on, policy)
    if today < due_on:
        return None
    cc = registry_cc
    if n > policy.escalate_after and policy.escalation_email:
        cc = (*cc, str(policy.escalation_email))
    return DueReminder(
        body_id=state.body_id,
        round=n,
        due_on=due_on,
        open_points=tuple(c.point for c in state.open_cells),
        cc=cc,
        deadline=state.sent_on + timedelta(days=policy.deadline_days),
    )


def policies(proposal: ProposalIn, bodies: list[BodyIn]) -> dict[str, ReminderPolicyIn]:
    return {b.id: proposal.reminder_policy.merged(b.reminder_policy) for b in bodies}


def find_due(settings: Settings, today: date) -> list[DueReminder]:
    """Every reminder due today for the configured proposal."""
    proposal = load_proposal_by_id(settings.path(settings.data_dir), settings.proposal_id)
    roster = load_roster(settings.path(settings.roster_file))
    per_body = policies(proposal, list(roster.bodies))
    with Session(make_engine(settings.effective_database_url)) as session:
        states = read_states(session=session, proposal_id=proposal.id)
    due = []
    for body in roster.bodies:
        state = states.get(body.id)
        if state is not None:
            reminder = due_reminder(state, per_body[body.id], today)
            if reminder is not None:
                due.append(reminder)
    return due


class MailPointNote(BaseModel):
    number: int
    short_title: str
    note: str | None


class ReminderMailContext(BaseModel):
    """Variables of templates/email/muistutus_subject.txt, muistutus.txt and muistutus.html."""

    body: BodyContext
    sender: str
    preparer: str
    title: str
    short_title: str
    round: int
    sent_on: str
    deadline: str
    open_points: list[MailPointNote]
    decided_points: list[str]
    attachment_names: list[str]


def _cell_note(cell: Cell, lang: str = "fi") -> str | None:
    """'pantu pöydälle 15.3.2021 § 60' for a tabled/returned point; None for one not yet handled."""
    if cell.outcome is None:
        if cell.status == DecisionStatus.on_agenda.value and cell.meeting_date:
            return text(lang, "agenda", date=fi_date(cell.meeting_date))
        return None
    where = f" {fi_date(cell.meeting_date)}" if cell.meeting_date else ""
    section = f" § {cell.section}" if cell.section else ""
    return f"{outcome_label(cell.outcome, lang)}{where}{section}"


def render_reminder(
    proposal: ProposalIn, body: BodyIn, state: BodyState, due: DueReminder, folder, *, on: date
):
    """The reminder email and the proposal regenerated with only the open points."""
    lang = body.language.value
    proposal = translated(proposal, lang)
    decided = {c.point: _cell_note(c, lang) or "" for c in state.cells if c.status not in OPEN}
    path = folder / safe_filename(text(lang, "file_reminder", name=body.name, round=str(due.round)), ".docx")
    render_docx(
        PROPOSAL_TEMPLATE,
        proposal_context(proposal, body, on=on, open_points=list(due.open_points), decided_notes=decided),
        path,
        lang,
    )
    cells = {c.point: c for c in state.cells}
    ctx = ReminderMailContext(
        body=body_context(body),
        sender=proposal.sender,
        preparer=proposal.preparer,
        title=proposal.title,
        short_title=proposal.short_title,
        round=due.round,
        sent_on=fi_date(state.sent_on) if state.sent_on else "",
        deadline=fi_date(due.deadline),
        open_points=[
            MailPointNote(
                number=n, short_title=proposal.point(n).short_title, note=_cell_note(cells[n], lang)
            )
            for n in due.open_points
        ],
        decided_points=[
            f"{n}. {proposal.point(n).short_title}: {note}" for n, note in sorted(decided.items())
        ],
        attachment_names=[path.name],
    )
    return render_mail(
        "muistutus",
        ctx,
        lang=lang,
        body_id=body.id,
        recipients=body_recipients(body),
        attachments=[path],
        cc=list(due.cc),
    )


def prepare_reminders(settings: Settings, due: list[DueReminder], *, today: date, actor: str) -> list[int]:
    """Render and queue each due reminder (one outbox row per round); returns the ids to deliver."""
    from council.sending import body_folder

    if not due:
        return []
    proposal = load_proposal_by_id(settings.path(settings.data_dir), settings.proposal_id)
    bodies = {b.id: b for b in load_roster(settings.path(settings.roster_file)).bodies}
    engine = make_engine(settings.effective_database_url)
    with Session(engine) as session:
        states = read_states(session=session, proposal_id=proposal.id)
    ids = []
    for reminder in due:
        body = bodies[reminder.body_id]
        rendered = render_reminder(
            proposal, body, states[body.id], reminder, body_folder(settings, proposal.id, body.id), on=today
        )
        rendered.attachments = with_pdf_copies(settings, rendered.attachments)
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
        ids.append(message_pk)
    return ids


def pending_message_ids(settings: Settings) -> list[int]:
    """Messages of the proposal still queued (or abandoned mid-send): retried by each follow-up run."""
    with Session(make_engine(settings.effective_database_url)) as session:
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


class ConfirmationMailContext(BaseModel):
    """Variables of templates/email/kiitos_subject.txt, kiitos.txt and kiitos.html."""

    body: BodyContext
    sender: str
    preparer: str
    title: str
    short_title: str
    decisions: list[str]
    liaison: str | None
    attachment_names: list[str]


def prepare_confirmations(settings: Settings, *, today: date, actor: str) -> list[int]:
    """Queue one thank-you for each body whose every point is decided (once per body)."""
    from council.sending import body_folder

    proposal = load_proposal_by_id(settings.path(settings.data_dir), settings.proposal_id)
    bodies = {b.id: b for b in load_roster(settings.path(settings.roster_file)).bodies}
    engine = make_engine(settings.effective_database_url)
    with Session(engine) as session:
        states = read_states(session=session, proposal_id=proposal.id)
        liaisons = {
            body_id: liaison
            for body_id, liaison in session.execute(
                select(Decision.body_id, Decision.liaison).where(
                    Decision.proposal_id == proposal.id, Decision.point_number == 1
                )
            )
        }
    ids = []
    for body_id, state in states.items():
        body = bodies.get(body_id)
        if body is None or state.has_confirmation or state.open_cells:
            continue
        if any(c.outcome is None for c in state.cells):
            continue
        lang = body.language.value
        local = translated(proposal, lang)
        folder = body_folder(settings, proposal.id, body.id)
        duty = folder / duty_description_filled_name(body)
        attachments = [duty] if duty.is_file() else []
        liaison = liaisons.get(body_id)
        ctx = ConfirmationMailContext(
            body=body_context(body),
            sender=local.sender,
            preparer=local.preparer,
            title=local.title,
            short_title=local.short_title,
            decisions=[
                f"{c.point}. {local.point(c.point).short_title}: {_cell_note(c, lang)}" for c in state.cells
            ],
            liaison=f"{liaison['name']}, {liaison['title']} ({liaison['email']})" if liaison else None,
            attachment_names=[p.name for p in attachments],
        )
        with Session(engine) as session, session.begin():
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
        if created:
            ids.append(message_pk)
    return ids


def duty_description_filled_name(body: BodyIn) -> str:
    """File name of the body's filled duty description (written when point 1 names a liaison)."""
    return safe_filename(text(body.language.value, "file_duty_filled", name=body.name), ".docx")


@dataclass
class FollowUpReport:
    today: date
    due: list[DueReminder]
    delivered: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    confirmations: int = 0


def run_follow_up(
    settings: Settings, *, today: date, mailer, actor: str, dry_run: bool = False
) -> FollowUpReport:
    """One follow-up round: queue due reminders and thank-yous, deliver them and earlier leftovers.

    With ``dry_run`` only the due reminders are computed; nothing is stored or sent.
    """
    from council.sending import deliver_messages

    due = find_due(settings, today)
    report = FollowUpReport(today=today, due=due)
    if dry_run:
        return report
    from council.documents import prepare_duty_descriptions
    from council.refresh import write_dashboard_files

    prepare_reminders(settings, due, today=today, actor=actor)
    prepare_duty_descriptions(settings, today=today, actor=actor)
    report.confirmations = len(prepare_confirmations(settings, today=today, actor=actor))
    delivery = deliver_messages(
        settings, pending_message_ids(settings), mailer, actor=actor, respect_backoff=True
    )
    report.delivered, report.failed = delivery.sent, delivery.failed
    write_dashboard_files(settings, today=today)
    return report
