"""The committee's proposals as campaigns: which exist, in which state, sent to whom.

At run time the database is the one source of a proposal's content (``proposal.content``); files
under data/ and authored DOCX files are import sources that ``sync_content`` stores. Data functions
take a keyword-only ``session``; the caller owns the transaction.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from council.config import Settings, proposal_named_in_environment
from council.content.loading import load_proposal_by_id
from council.errors import ContentError, CouncilError, Problem, UnknownProposalError, validation_message
from council.rules.transitions import effective_status
from council.store.engine import checked_engine_for
from council.store.tracking import set_state
from models.enums import (
    ACTIVE_STATES,
    PROPOSAL_STATE_FI,
    DecisionStatus,
    MessageState,
    ProposalState,
)
from models.schemas import ProposalIn
from models.tables import Decision, Message, Proposal, Recipient


@dataclass(frozen=True)
class ProposalSummary:
    """One line of the proposal list (CLI, forms, dashboard index)."""

    id: str
    title: str
    short_title: str
    state: ProposalState
    diary_number: str | None
    recipients: int
    created_at: datetime
    closed_at: datetime | None
    close_reason: str | None

    @property
    def state_fi(self) -> str:
        return PROPOSAL_STATE_FI[self.state]

    @property
    def active(self) -> bool:
        return self.state in ACTIVE_STATES

    @property
    def label(self) -> str:
        """How the forms' Esitys dropdown names it: the short title and, unambiguous, the id."""
        return f"{self.short_title} ({self.id})"


def stored_content(*, session: Session, proposal_id: str) -> ProposalIn | None:
    """The proposal's content as stored, or None when it has not been stored yet."""
    content = session.scalar(select(Proposal.content).where(Proposal.id == proposal_id))
    if not content:
        return None
    try:
        return ProposalIn.model_validate(content)
    except ValidationError as exc:  # stored by an older version whose rules were looser
        where = f"tietokanta, esitys {proposal_id}"
        raise ContentError(
            where,
            [
                Problem(where, None, ".".join(str(p) for p in err["loc"]) or "(esitys)", validation_message(err))
                for err in exc.errors()
            ],
        ) from None


def proposal_content(settings: Settings, proposal_id: str | None = None) -> ProposalIn:
    """The content of ``proposal_id`` (default: the settings' proposal): from the database, or from
    its import file under data/ while it has not been stored (a database of an earlier release
    before its first sync, a fresh set-up before ``council init``)."""
    proposal_id = proposal_id or settings.proposal_id
    try:
        engine = checked_engine_for(settings)
    except CouncilError:
        engine = None  # no database yet: the import file is all there is
    content = None
    if engine is not None:
        with Session(engine) as session:
            content = stored_content(session=session, proposal_id=proposal_id)
    if content is not None:
        return content
    return load_proposal_by_id(settings.path(settings.data_dir), proposal_id)


def list_proposals(*, session: Session) -> list[ProposalSummary]:
    """Every stored proposal, the newest first (its columns and the short title, not the content:
    every command and the forms' keeper read this list)."""
    counts = select(Recipient.proposal_id, func.count().label("n")).group_by(Recipient.proposal_id).subquery()
    rows = session.execute(
        select(
            Proposal.id,
            Proposal.title,
            Proposal.content["short_title"].as_string().label("short_title"),
            Proposal.state,
            Proposal.diary_number,
            func.coalesce(counts.c.n, 0).label("recipients"),
            Proposal.created_at,
            Proposal.closed_at,
            Proposal.close_reason,
        )
        .outerjoin(counts, counts.c.proposal_id == Proposal.id)
        .order_by(Proposal.created_at.desc(), Proposal.id)
    )
    return [
        ProposalSummary(
            id=row.id,
            title=row.title,
            short_title=row.short_title or row.title,
            state=ProposalState(row.state),
            diary_number=row.diary_number,
            recipients=row.recipients,
            created_at=row.created_at,
            closed_at=row.closed_at,
            close_reason=row.close_reason,
        )
        for row in rows
    ]


def active_ids(*, session: Session) -> list[str]:
    """The proposals being followed (draft or sent), the oldest first: the order in which a day's
    follow-up gives each its turn."""
    return list(
        session.scalars(
            select(Proposal.id)
            .where(Proposal.state.in_([s.value for s in ACTIVE_STATES]))
            .order_by(Proposal.created_at, Proposal.id)
        )
    )


def everything_final(*, session: Session, proposal_id: str, today: date) -> bool:
    """True when every point of every recipient is decided and past its rectification window."""
    cells = session.execute(
        select(Decision.status, Decision.meeting_date).where(Decision.proposal_id == proposal_id)
    ).all()
    return bool(cells) and all(
        effective_status(DecisionStatus(status), meeting, today) == DecisionStatus.final
        for status, meeting in cells
    )


def close_finished(*, session: Session, today: date, actor: str) -> list[str]:
    """Close every sent proposal whose every point of every recipient is final; their ids."""
    closed = []
    for proposal_id in session.scalars(select(Proposal.id).where(Proposal.state == ProposalState.sent.value)):
        if everything_final(session=session, proposal_id=proposal_id, today=today):
            closed.append(proposal_id)
    for proposal_id in closed:
        set_state(
            session=session,
            proposal_id=proposal_id,
            state=ProposalState.closed,
            actor=actor,
            reason="kaikki kohdat päätetty kaikissa vastaanottajissa",
        )
    return closed


_LABELLED_ID = re.compile(r"\(([a-z0-9][a-z0-9-]{0,98}[a-z0-9])\)\s*$")


def choose_proposal(settings: Settings, wanted: str | None = None, *, to_change: bool = False) -> str:
    """The id of the proposal a command or a form means.

    ``wanted`` may be an id, a form's label "short title (id)", a title or a short title (any case).
    A title that several proposals share is refused with their ids. Without ``wanted``: the only
    active proposal; with none stored yet, the configured one (``COUNCIL_PROPOSAL_ID``, its content
    read from data/ until it is stored); with several active, the configured one when
    COUNCIL_PROPOSAL_ID names one of them, else a Finnish error that lists them. ``to_change``
    (sending, recording, reminding) refuses a closed or archived proposal.
    """
    try:
        with Session(checked_engine_for(settings)) as session:
            known = list_proposals(session=session)
    except CouncilError:
        known = []  # no database yet
    chosen = _named(settings, known, wanted.strip()) if wanted and wanted.strip() else _default(settings, known)
    found = next((p for p in known if p.id == chosen), None)
    if to_change and found is not None and not found.active:
        raise CouncilError(
            f"Esitys {found.id} on {found.state_fi}"
            + (f" ({found.close_reason})" if found.close_reason else "")
            + ": sille ei enää lähetetä, kirjata eikä muistuteta. Katso tilanne: council proposal show "
            + found.id
        )
    return chosen


def _named(settings: Settings, known: list[ProposalSummary], wanted: str) -> str:
    if match := _LABELLED_ID.search(wanted):
        wanted = match.group(1)
    key = wanted.casefold()
    by_id = [p for p in known if p.id.casefold() == key]
    matches = by_id or [p for p in known if key in (p.title.casefold(), p.short_title.casefold())]
    if len(matches) == 1:
        return matches[0].id
    if len(matches) > 1:
        raise CouncilError(
            f"Otsikko {wanted!r} sopii {len(matches)} esitykseen: valitse tunnisteella "
            f"({', '.join(p.id for p in matches)})."
        )
    if (settings.path(settings.data_dir) / "proposals" / f"{wanted}.yaml").is_file():
        return wanted
    raise UnknownProposalError(
        wanted, "Tunnetut esitykset: " + (", ".join(p.id for p in known) or "ei yhtään") + "."
    )


def _default(settings: Settings, known: list[ProposalSummary]) -> str:
    active = [p for p in known if p.active]
    if len(active) == 1:
        return active[0].id
    if not active:
        return settings.proposal_id
    if proposal_named_in_environment() and settings.proposal_id in {p.id for p in active}:
        return settings.proposal_id
    listing = "; ".join(p.label for p in active)
    raise CouncilError(
        f"Seurannassa on {len(active)} esitystä, joten valitse yksi: --proposal TUNNISTE "
        f"(lomakkeella kenttä Esitys). Esitykset: {listing}."
    )


def proposals_with_pending_mail(*, session: Session, other_than: list[str]) -> list[str]:
    """Proposals outside ``other_than`` (closed or archived ones, for the follow-up) that still have a
    message queued or abandoned mid-send: the outbox delivers those whatever the proposal's state."""
    return list(
        session.scalars(
            select(Message.proposal_id)
            .where(
                Message.proposal_id.not_in(other_than),
                Message.state.in_((MessageState.queued.value, MessageState.sending.value)),
            )
            .distinct()
            .order_by(Message.proposal_id)
        )
    )
