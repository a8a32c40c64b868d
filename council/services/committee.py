"""The committee's outputs: the dashboard files and the status report (tilannekatsaus)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from pathlib import Path

from sqlalchemy.orm import Session

from council.config import Settings
from council.content.i18n import text
from council.dashboard.build import build_dashboard, content_policies, mailbox_status
from council.dashboard.index import build_index, proposal_folder_name
from council.dashboard.model import DashboardOut
from council.dashboard.publish import INDEX_NAME, board_feeds, write_board, write_index
from council.paths import safe_filename
from council.rendering.contexts import document_meta
from council.rendering.environment import STATUS_REPORT_TEMPLATE
from council.rendering.render import render_docx
from council.rules.formatting import fi_date, today_helsinki
from council.store.engine import engine_for
from council.store.matrix import read_states
from council.store.proposals import ProposalSummary, active_ids, list_proposals, proposal_content
from models.contexts import (
    ReportLiaison,
    ReportPoint,
    ReportRow,
    StatusReportContext,
)


def current_dashboard(settings: Settings, *, today: date | None = None) -> DashboardOut:
    """The dashboard of the configured proposal, with the content files' reminder policies."""
    policy, overrides = content_policies(settings, settings.proposal_id)
    with Session(engine_for(settings)) as session:
        return build_dashboard(
            session=session, proposal_id=settings.proposal_id, today=today, policy=policy, overrides=overrides
        )


def report_proposals(settings: Settings) -> list[str]:
    """The proposals the dashboard run writes a status report of: every active one (else the
    configured one, so a service with nothing sent still gets its report)."""
    with Session(engine_for(settings)) as session:
        return active_ids(session=session) or [settings.proposal_id]


def every_dashboard(
    settings: Settings, *, today: date | None = None
) -> list[tuple[ProposalSummary, DashboardOut]]:
    """Every stored proposal with its dashboard (each with its own reminder policy), the newest first."""
    today = today or today_helsinki()
    engine = engine_for(settings)
    with Session(engine) as session:
        summaries = list_proposals(session=session)
    # Read outside the boards' session: content_policies opens its own, and on SQLite a second
    # connection would wait for the first one's transaction.
    policies = {s.id: content_policies(settings, s.id) for s in summaries}
    with Session(engine) as session:
        return [
            (
                summary,
                build_dashboard(
                    session=session,
                    proposal_id=summary.id,
                    today=today,
                    policy=policies[summary.id][0],
                    overrides=policies[summary.id][1],
                ),
            )
            for summary in summaries
        ]


def write_dashboard_files(
    settings: Settings,
    *,
    today: date | None = None,
    boards: Sequence[tuple[ProposalSummary, DashboardOut]] | None = None,
) -> tuple[Path, Path]:
    """Rewrite outputs/dashboard/ (from ``boards`` when given, else :func:`every_dashboard`): one page
    set per stored proposal in ``<proposal_id>/`` (the page, its JSON, the accessibility statement,
    the calendar and the Atom feed), the index of them all (``index.html``, ``esitykset.json``) and,
    for links made before there were many proposals, the page set of ``settings.proposal_id`` (the
    proposal acted on, else the first on the index) once more at the top. Return the top page's and
    JSON's paths.
    """
    today = today or today_helsinki()
    if boards is None:
        boards = every_dashboard(settings, today=today)
    if not boards:  # nothing stored yet: the same error as a single board of an unknown proposal
        current_dashboard(settings, today=today)
    folder = settings.dashboard_dir
    contact = str(settings.sender)
    feeds: dict[str, dict[str, str | bytes]] = {}
    for summary, board in boards:
        sub = folder / proposal_folder_name(summary.id)
        feeds[summary.id] = board_feeds(board)
        write_board(board, sub, contact_email=contact, index=f"../{INDEX_NAME}", feeds=feeds[summary.id])
    with Session(engine_for(settings)) as session:
        mailbox = mailbox_status(session=session)
    index = build_index(boards, today=today, mailbox=mailbox)
    default_id = settings.proposal_id if settings.proposal_id in feeds else index.proposals[0].proposal_id
    default = next(b for s, b in boards if s.id == default_id)
    page = write_board(default, folder, contact_email=contact, index=INDEX_NAME, feeds=feeds[default_id])
    write_index(index, folder)  # last: the index appears once every page it links to exists
    return page


def status_report_context(settings: Settings, *, today: date) -> StatusReportContext:
    """The committee's status report: progress per point, every cell, liaisons, overdue, reminders."""
    proposal = proposal_content(settings)

    board = current_dashboard(settings, today=today)
    with Session(engine_for(settings)) as session:
        states = read_states(session=session, proposal_id=proposal.id)
    names = {b.body_id: b.name for b in board.bodies}
    rows = []
    for body in board.bodies:
        for cell in body.cells:
            decision = ""
            if cell.outcome:
                decision = f"{cell.outcome}, {cell.meeting_date or ''} § {cell.section or ''}".strip()
            elif cell.meeting_date:
                decision = text("fi", "agenda", date=cell.meeting_date)
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
                text(
                    "fi",
                    "report_reminders",
                    name=names.get(body_id, body_id),
                    count=state.reminders,
                    last=last,
                )
            )
    if not reminders:
        reminders = [text("fi", "report_no_reminders")]
    overdue = [
        text(
            "fi",
            "report_overdue",
            name=b.name,
            deadline=b.deadline,
            days=b.days_overdue,
            points=", ".join(map(str, b.open_points)),
        )
        for b in board.bodies
        if b.overdue
    ]
    return StatusReportContext(
        meta=document_meta(
            "fi", "report_type", on=today, diary_number=proposal.diary_number, contact=proposal.preparer
        ),
        sender=proposal.sender,
        sender_unit=proposal.sender_unit,
        recipient=proposal.sender,
        title=text("fi", "report_title", short_title=proposal.short_title),
        summary=text(
            "fi",
            "report_summary",
            sent=len([b for b in board.bodies if b.sent_at]),
            decided=board.overall.decided,
            total=board.overall.total,
            percent=board.overall.percent,
            date=fi_date(today),
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
        has_duty_description=board.has_duty_description,
        overdue=overdue,
        reminders=reminders,
    )


def write_status_report(
    settings: Settings,
    *,
    today: date,
    folder: Path | None = None,
    context: StatusReportContext | None = None,
    tag: str | None = None,
) -> Path:
    """Render the status report DOCX into ``folder`` (default outputs/<proposal>/), from ``context``
    when the caller has already built it; ``tag`` (the proposal's short title) goes in the file
    name where several proposals' reports are attached to one email."""
    folder = folder or settings.proposal_dir(settings.proposal_id)
    name = text("fi", "file_report", date=fi_date(today))
    path = folder / safe_filename(f"{name} {tag}" if tag else name, ".docx")
    return render_docx(STATUS_REPORT_TEMPLATE, context or status_report_context(settings, today=today), path)
