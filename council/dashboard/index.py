"""The dashboard index: :func:`build_index` turns every stored proposal and its built board into a
:class:`~council.dashboard.model.DashboardIndex` (``index.html`` and ``esitykset.json``). No SQL and
no file I/O: the caller lists the proposals and builds each board."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime

from council.dashboard.build import fi_datetime
from council.dashboard.model import DashboardIndex, DashboardOut, IndexEntry, MailboxStatus
from council.dashboard.publish import HTML_NAME, JSON_NAME
from council.rules.formatting import HELSINKI, fi_date
from council.store.proposals import ProposalSummary


def proposal_folder_name(proposal_id: str) -> str:
    """The sub-folder of outputs/dashboard/ that holds the proposal's page set: its id, a slug
    (``[a-z0-9-]``), so safe as a folder name and as a URL path segment."""
    return proposal_id


def index_entry(summary: ProposalSummary, board: DashboardOut) -> IndexEntry:
    """One line of the index: the proposal's state and the board's progress, overdue and deadlines."""
    deadlines = sorted(b.deadline_iso for b in board.bodies if b.open_points and b.deadline_iso)
    closed_day = None
    if summary.closed_at is not None:
        at = summary.closed_at if summary.closed_at.tzinfo else summary.closed_at.replace(tzinfo=UTC)
        closed_day = at.astimezone(HELSINKI).date()
    folder = proposal_folder_name(summary.id)
    return IndexEntry(
        proposal_id=summary.id,
        title=summary.title,
        short_title=summary.short_title,
        state=summary.state.value,
        state_fi=summary.state_fi,
        active=summary.active,
        diary_number=summary.diary_number,
        recipients=len(board.bodies),
        progress=board.overall,
        overdue=len(board.overdue),
        follow_up=len(board.follow_up),
        deadline_first=fi_date(deadlines[0]) if deadlines else None,
        deadline_first_iso=deadlines[0] if deadlines else None,
        deadline_last=fi_date(deadlines[-1]) if deadlines else None,
        deadline_last_iso=deadlines[-1] if deadlines else None,
        closed_date=fi_date(closed_day) if closed_day else None,
        close_reason=summary.close_reason,
        page=f"{folder}/{HTML_NAME}",
        json_path=f"{folder}/{JSON_NAME}",
    )


def build_index(
    boards: Iterable[tuple[ProposalSummary, DashboardOut]], *, today: date, mailbox: MailboxStatus | None = None
) -> DashboardIndex:
    """The index of ``boards`` (in :func:`~council.store.proposals.list_proposals` order, the newest
    first): the active proposals first, then the closed and archived ones, each group keeping its order."""
    entries = [index_entry(summary, board) for summary, board in boards]
    entries.sort(key=lambda e: not e.active)  # stable: the newest first within each group
    generated = datetime.now(HELSINKI)
    return DashboardIndex(
        today=today,
        generated_at=generated,
        generated_at_text=fi_datetime(generated),
        proposals=entries,
        mailbox=mailbox,
    )
