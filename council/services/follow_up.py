"""The follow-up use case: who is due a reminder today (:func:`find_due`), the reminder email and
the proposal regenerated with only the open points (:func:`render_reminder`), queued once per round
(:func:`prepare_reminders`), and one whole round sequenced by :func:`run_follow_up` for the CLI and
the flow alike. The rules of when a reminder is due are in :mod:`council.rules.reminders`.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from council.config import Settings
from council.content.i18n import text, translated
from council.content.loading import load_roster
from council.delivery.mail import Mailer, RenderedMail
from council.delivery.pdf import batch_pdf_copies
from council.errors import CouncilError
from council.paths import safe_filename
from council.perf import chunks
from council.rendering.attachments import Attachments, PdfCopies, attach
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
from council.store.outbox import bodies_mailed_on, queue_combined, queue_message
from council.store.proposals import (
    active_ids,
    close_finished,
    proposal_content,
    proposals_with_pending_mail,
)
from council.store.recipients import case_numbers
from models.contexts import CombinedReminderMailContext, MailPointNote, ReminderMailContext
from models.enums import MessageKind, MessageState
from models.results import DeliveryFailure, DeliveryReport
from models.schemas import BodyIn, ProposalIn
from models.tables import Message

log = logging.getLogger(__name__)


def find_due(settings: Settings, today: date, claimed: frozenset[str] = frozenset()) -> list[DueReminder]:
    """Every reminder due today for the settings' proposal, except to the ``claimed`` bodies (their
    reminders of several proposals go in one combined email, :func:`prepare_combined`) and to a
    body that has another proposal's email today already: a body gets at most one email a day from
    the service, and that reminder waits a day."""
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


def _reminder_path(body: BodyIn, due: DueReminder, folder: Path, tag: str | None = None) -> Path:
    """The reminder document's file; ``tag`` (the proposal's short title) tells apart the documents
    of several proposals attached to one combined reminder."""
    name = body.name if tag is None else f"{tag} {body.name}"
    return folder / safe_filename(
        text(body.language.value, "file_reminder", name=name, round=str(due.round)), ".docx"
    )


def _decided_notes(state: BodyState, lang: str) -> dict[int, str]:
    """The body's decided points with their notes ("hyväksytty 15.3.2021 § 59"), by point number."""
    return {c.point: cell_note(c, lang) or "" for c in state.cells if c.status not in OPEN}


def render_reminder_document(
    proposal: ProposalIn,
    body: BodyIn,
    state: BodyState,
    due: DueReminder,
    folder: Path,
    *,
    on: date,
    reference: str | None = None,
    tag: str | None = None,
) -> Path:
    """The proposal regenerated with only the open points, with the committee's Dnro, the body's
    case number as "Viite" when known and the reply-by date (the first send's deadline)."""
    lang = body.language.value
    proposal = translated(proposal, lang)
    decided = _decided_notes(state, lang)
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
        _reminder_path(body, due, folder, tag),
        lang,
    )


def reminder_parts(
    proposal: ProposalIn,
    body: BodyIn,
    state: BodyState,
    due: DueReminder,
    folder: Path,
    *,
    on: date,
    reference: str | None = None,
    pdf_copies: PdfCopies | None = None,
    tag: str | None = None,
    first_number: int = 1,
) -> tuple[ReminderMailContext, Attachments]:
    """One proposal's reminder to ``body`` as mail variables and the rendered reminder document's
    attachments (with its PDF/A copy when ``pdf_copies`` gives it, and their JHS 143 description):
    a reminder of its own, or one section of a combined reminder."""
    lang = body.language.value
    proposal = translated(proposal, lang)
    decided = _decided_notes(state, lang)
    attached = attach(
        [("label_reminder", _reminder_path(body, due, folder, tag))],
        proposal=proposal,
        body=body,
        on=on,
        reference=reference,
        pdf_copies=pdf_copies,
        first_number=first_number,
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
    return ctx, attached


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
    ctx, attached = reminder_parts(
        proposal, body, state, due, folder, on=on, reference=reference, pdf_copies=pdf_copies
    )
    return _reminder_of(ctx, attached, body, due)


def _reminder_of(ctx: ReminderMailContext, attached: Attachments, body: BodyIn, due: DueReminder) -> RenderedMail:
    return render_mail(
        "muistutus",
        ctx,
        lang=body.language.value,
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


#: Reminders due today to bodies that several proposals remind today: body id -> [(proposal id,
#: its due reminder)], the oldest proposal first.
Shared = dict[str, list[tuple[str, DueReminder]]]


def _for(settings: Settings, proposal_id: str) -> Settings:
    return settings.model_copy(update={"proposal_id": proposal_id})


def shared_reminders(settings: Settings, proposal_ids: list[str], today: date) -> Shared:
    """The bodies due reminders of more than one of ``proposal_ids`` today (read only). A proposal
    whose content or state does not load is left out here; its own round reports why."""
    per_body: Shared = {}
    for proposal_id in proposal_ids:
        try:
            due_today = find_due(_for(settings, proposal_id), today)
        except CouncilError as exc:
            log.warning("Esityksen %s muistutuksia ei voitu yhdistää: %s", proposal_id, exc)
            continue
        for due in due_today:
            per_body.setdefault(due.body_id, []).append((proposal_id, due))
    return {body_id: pairs for body_id, pairs in per_body.items() if len(pairs) > 1}


def prepare_combined(settings: Settings, shared: Shared, *, today: date, actor: str) -> Prepared:
    """One email to each body of ``shared``: every proposal's open points in its own section and
    every proposal's reminder document attached. Each proposal's round is queued as a ``carried``
    row (with the reminder it would have sent alone, as its record), in the same transaction as
    the combined email; the ids of the emails to deliver, and what could not be made.

    Each section stands alone: one that cannot be made from what is stored is refused and the
    others go (a single one left goes as an ordinary reminder); a point decided since the day's
    reminders were found is left out, and a section with no open point left with it."""
    prepared = Prepared()
    if not shared:
        return prepared
    bodies = {b.id: b for b in load_roster(settings.path(settings.roster_file)).bodies}
    proposal_ids = list(dict.fromkeys(pid for pairs in shared.values() for pid, _ in pairs))

    def section(pid: str, body_id: str, due: DueReminder) -> str:
        return f"{pid}:{body_id}/{MessageKind.reminder.value}/{due.round}"

    content: dict[str, ProposalIn] = {}
    for pid in proposal_ids:
        try:
            content[pid] = proposal_content(_for(settings, pid))
        except CouncilError as exc:
            for body_id, pairs in shared.items():
                for other, due in pairs:
                    if other == pid:
                        prepared.refused[section(pid, body_id, due)] = DeliveryFailure(
                            state=MessageState.failed, error=str(exc)
                        )
    engine = engine_for(settings)
    with Session(engine) as session:
        states = {pid: read_states(session=session, proposal_id=pid) for pid in content}
        references = {pid: case_numbers(session=session, proposal_id=pid) for pid in content}

    documents: list[Path] = []
    made: dict[str, list[tuple[str, DueReminder, dict]]] = {}
    for body_id, pairs in shared.items():
        titles = Counter(content[pid].short_title for pid, _ in pairs if pid in content)
        for pid, due in pairs:
            state = states.get(pid, {}).get(body_id)
            still_open = {c.point for c in state.open_cells} if state else set()
            due = replace(due, open_points=tuple(p for p in due.open_points if p in still_open))
            if pid not in content or not due.open_points:
                continue
            where = {
                "folder": settings.body_dir(pid, body_id),
                "on": today,
                "reference": references[pid].get(body_id),
                # the documents' names tell the proposals apart (by id too when short titles match)
                "tag": content[pid].short_title + (f" {pid}" if titles[content[pid].short_title] > 1 else ""),
            }
            with one_message(section(pid, body_id, due), prepared):
                documents.append(render_reminder_document(content[pid], bodies[body_id], state, due, **where))
                made.setdefault(body_id, []).append((pid, due, where))
    pdf_copies = batch_pdf_copies(settings, documents)
    for body_id, pairs in made.items():
        body = bodies[body_id]
        parts: list[tuple[str, DueReminder, ReminderMailContext, Attachments]] = []
        for pid, due, where in pairs:
            with one_message(section(pid, body_id, due), prepared):
                ctx, attached = reminder_parts(
                    content[pid],
                    body,
                    states[pid][body_id],
                    due,
                    pdf_copies=pdf_copies,
                    first_number=1 + sum(len(a.lines) for *_, a in parts),
                    **where,
                )
                parts.append((pid, due, ctx, attached))
        if not parts:
            continue
        carrier_pid, carrier_due = parts[0][0], parts[0][1]
        with one_message(f"{body_id}/{MessageKind.combined_reminder.value}/{carrier_due.round}", prepared):
            own = [(pid, due.round, _reminder_of(ctx, attached, body, due)) for pid, due, ctx, attached in parts]
            with Session(engine) as session, session.begin():
                if len(parts) == 1:  # the others could not be made: this one goes as it would alone
                    message_pk, _created = queue_message(
                        session=session,
                        settings=settings,
                        proposal_id=carrier_pid,
                        kind=MessageKind.reminder,
                        round_=carrier_due.round,
                        mail=own[0][2],
                        actor=actor,
                        logical_date=today,
                    )
                else:
                    message_pk, _created = queue_combined(
                        session=session,
                        settings=settings,
                        carrier=(carrier_pid, carrier_due.round),
                        mail=_combined_mail(body, parts),
                        carried=own,
                        actor=actor,
                        logical_date=today,
                    )
            prepared.ids.append(message_pk)
    return prepared


def _combined_mail(
    body: BodyIn, parts: list[tuple[str, DueReminder, ReminderMailContext, Attachments]]
) -> RenderedMail:
    sections = [ctx for _, _, ctx, _ in parts]
    return render_mail(
        "muistutus_koottu",
        CombinedReminderMailContext(
            body=body_context(body),
            sender=sections[0].sender,
            preparers=list(dict.fromkeys(s.preparer for s in sections)),
            sections=sections,
            attachment_names=[line for s in sections for line in s.attachment_names],
        ),
        lang=body.language.value,
        body_id=body.id,
        recipients=body_recipients(body),
        attachments=[f for *_, attached in parts for f in attached.files],
        cc=sorted({cc for _, due, _, _ in parts for cc in due.cc}),
    )


def remind_combined(
    settings: Settings, shared: Shared, mailer: Mailer, *, today: date, actor: str
) -> DeliveryReport:
    """Queue and deliver the combined reminders of ``shared``; what could not be made is failed."""
    from council.services.send import deliver_messages

    prepared = prepare_combined(settings, shared, today=today, actor=actor)
    report = deliver_messages(settings, prepared.ids, mailer, actor=actor)
    report.failed.update(prepared.refused)
    return report


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
    """One day's follow-up over every active proposal: each proposal's report, in turn order, the
    bodies reminded of several proposals in one email (body id -> proposal ids) and the proposals
    closed because every point of every recipient became final."""

    today: date
    reports: dict[str, FollowUpReport] = field(default_factory=dict)
    combined: dict[str, list[str]] = field(default_factory=dict)
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
    combine: Callable[[Shared], DeliveryReport],
    proposal_ids: list[str] | None = None,
    dry_run: bool = False,
    deliver_leftovers: Callable[[str], DeliveryReport] | None = None,
) -> FollowUpDay:
    """Run ``run_one(proposal_id, combined_bodies)`` for every active proposal (or
    ``proposal_ids``), the oldest first: a body that several proposals remind today is left out of
    each (``combined_bodies``) and gets one email listing them all (``combine``), so a body gets
    one email a day. Then the mail still queued for closed proposals goes out
    (``deliver_leftovers``), and each sent proposal whose every point is final is closed (neither
    in a dry run)."""
    with Session(engine_for(settings)) as session:
        ids = proposal_ids if proposal_ids is not None else active_ids(session=session)
    shared = shared_reminders(settings, ids, today) if len(ids) > 1 else {}
    day = FollowUpDay(
        today=today, combined={body: [pid for pid, _ in pairs] for body, pairs in shared.items()}
    )
    for proposal_id in ids:
        day.reports[proposal_id] = run_one(proposal_id, frozenset(shared))
    for pairs in shared.values():
        for proposal_id, due in pairs:
            day.reports[proposal_id].due.append(due)
    if shared and not dry_run:
        delivery = combine(shared)
        carrier = day.reports[next(iter(shared.values()))[0][0]]
        carrier.delivered += delivery.sent
        carrier.failed.update(delivery.failed)
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
