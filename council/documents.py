"""Documents beyond the first send: the filled duty description, the committee's status report
(tilannekatsaus) and PDF/A copies through LibreOffice.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from council.config import Settings
from council.content import load_proposal_by_id, load_roster
from council.db import make_engine
from council.filters import fi_date
from council.followup import duty_description_filled_name, read_states
from council.i18n import translated
from council.outbox import queue_message
from council.paths import inside, safe_filename
from council.pdf import to_pdfa, with_pdf_copies  # noqa: F401 - to_pdfa re-exported
from council.rendering import (
    DUTY_TEMPLATE,
    SENDER_UNIT,
    body_context,
    duty_description_context,
    render_docx,
    render_mail,
)
from models.contexts import (
    BodyContext,
    DocumentMeta,
    LiaisonContext,
    ReportLiaison,
    ReportPoint,
    ReportRow,
    StatusReportContext,
)
from models.enums import DecisionStatus, EventKind, MessageKind
from models.tables import Decision, Event, Message

STATUS_REPORT_TEMPLATE = "tilannekatsaus.docx"


def appointed_by(deciding_body: str | None, meeting_date: date | None, section: int | None) -> str:
    """'Jokioisten kunnanhallitus 15.3.2021 § 59'."""
    parts = [deciding_body or ""]
    if meeting_date:
        parts.append(fi_date(meeting_date))
    if section:
        parts.append(f"§ {section}")
    return " ".join(p for p in parts if p)


class DutyMailContext(BaseModel):
    """Variables of templates/email/toimenkuva_subject.txt, toimenkuva.txt and toimenkuva.html."""

    body: BodyContext
    sender: str
    preparer: str
    short_title: str
    liaison: LiaisonContext
    appointed_by: str
    attachment_names: list[str]


def prepare_duty_descriptions(settings: Settings, *, today: date, actor: str) -> list[int]:
    """For each body whose point-1 decision names a liaison: render its filled duty description and
    queue one email to the registry and the liaison — once per liaison: the outbox round counts the
    liaisons recorded for the body (0 for the first; a correction naming another person is round 1,
    a correction that keeps the person sends nothing)."""
    from council.sending import body_folder

    proposal = load_proposal_by_id(settings.path(settings.data_dir), settings.proposal_id)
    bodies = {b.id: b for b in load_roster(settings.path(settings.roster_file)).bodies}
    engine = make_engine(settings.effective_database_url)
    with Session(engine) as session:
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
        cells = session.scalars(
            select(Decision).where(
                Decision.proposal_id == proposal.id,
                Decision.point_number == proposal.duty_description.duties_point,
                Decision.liaison.is_not(None),
                Decision.status.in_((DecisionStatus.decided.value, DecisionStatus.final.value)),
            )
        ).all()
        todo = [
            (c.body_id, dict(c.liaison), c.deciding_body, c.meeting_date, c.section, c.diary_number)
            for c in cells
        ]
    ids = []
    for body_id, liaison, deciding_body, meeting_date, section, dnro in todo:
        body = bodies.get(body_id)
        round_ = liaison_round.get(body_id, 0)
        if body is None or (body_id, round_) in done:
            continue
        lang = body.language.value
        local = translated(proposal, lang)
        appointed = appointed_by(deciding_body, meeting_date, section)
        person = LiaisonContext(**{k: str(liaison[k]) for k in ("name", "title", "email", "work_time")})
        path = body_folder(settings, proposal.id, body.id) / duty_description_filled_name(body)
        render_docx(
            DUTY_TEMPLATE,
            duty_description_context(
                local, body, on=today, liaison=person, appointed_by=appointed, diary_number=dnro
            ),
            path,
            lang,
        )
        ctx = DutyMailContext(
            body=body_context(body),
            sender=local.sender,
            preparer=local.preparer,
            short_title=local.short_title,
            liaison=person,
            appointed_by=appointed,
            attachment_names=[path.name],
        )
        with Session(engine) as session, session.begin():
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
                    attachments=with_pdf_copies(settings, [path]),
                ),
                actor=actor,
                logical_date=today,
            )
        if created:
            ids.append(message_pk)
    return ids


def status_report_context(settings: Settings, *, today: date) -> StatusReportContext:
    """The committee's status report: progress per point, every cell, liaisons, overdue, reminders."""
    proposal = load_proposal_by_id(settings.path(settings.data_dir), settings.proposal_id)
    from council.refresh import current_dashboard

    board = current_dashboard(settings, today=today)
    with Session(make_engine(settings.effective_database_url)) as session:
        states = read_states(session=session, proposal_id=proposal.id)
    names = {b.body_id: b.name for b in board.bodies}
    rows = []
    for body in board.bodies:
        for cell in body.cells:
            decision = ""
            if cell.outcome:
                decision = f"{cell.outcome}, {cell.meeting_date or ''} § {cell.section or ''}".strip()
            elif cell.meeting_date:
                decision = f"esityslistalla {cell.meeting_date}"
            rows.append(
                ReportRow(
                    body=body.name,
                    point=f"{cell.point}. {proposal.point(cell.point).short_title}",
                    status=cell.status_label,
                    decision=decision,
                )
            )
    reminders = []
    for body_id, state in sorted(states.items(), key=lambda kv: names.get(kv[0], kv[0])):
        if state.reminders:
            last = fi_date(state.last_reminder_on) if state.last_reminder_on else "–"
            reminders.append(
                f"{names.get(body_id, body_id)}: {state.reminders} muistutusta, viimeisin {last}"
            )
    if not reminders:
        reminders = ["Muistutuksia ei ole lähetetty."]
    overdue = [
        f"{b.name}: määräaika {b.deadline}, myöhässä {b.days_overdue} pv, avoimet kohdat "
        + ", ".join(map(str, b.open_points))
        for b in board.bodies
        if b.overdue
    ]
    return StatusReportContext(
        meta=DocumentMeta(doc_type="TILANNEKATSAUS", date=fi_date(today)),
        sender=proposal.sender,
        sender_unit=SENDER_UNIT,
        recipient=proposal.sender,
        title=f"Tilannekatsaus: {proposal.short_title}",
        summary=(
            f"Esitys on lähetetty {len([b for b in board.bodies if b.sent_at])} vastaanottajalle. "
            f"Kohdista on päätetty {board.overall.decided}/{board.overall.total} "
            f"({board.overall.percent} %). Tilanne {fi_date(today)}."
        ),
        points=[
            ReportPoint(
                label=f"{p.number}. {p.short_title}",
                decided=p.progress.decided,
                total=p.progress.total,
                percent=p.progress.percent,
            )
            for p in board.points
        ],
        rows=rows,
        liaisons=[
            ReportLiaison(
                body=item.body_name,
                person=f"{item.name}, {item.title}, {item.email}",
                work_time=item.work_time,
            )
            for item in board.liaisons
        ],
        overdue=overdue,
        reminders=reminders,
    )


def write_status_report(
    settings: Settings, *, today: date, folder: Path | None = None, context: StatusReportContext | None = None
) -> Path:
    """Render the status report DOCX into ``folder`` (default outputs/<proposal>/), from ``context``
    when the caller has already built it."""
    folder = folder or inside(settings.outputs, settings.proposal_id)
    path = folder / safe_filename(f"Tilannekatsaus {fi_date(today)}", ".docx")
    return render_docx(STATUS_REPORT_TEMPLATE, context or status_report_context(settings, today=today), path)
