"""The committee dashboard's data: :func:`build_dashboard` reads one proposal's matrix, messages and
timeline in a constant number of SQL statements (eight, whatever the number of bodies) and returns a
:class:`~council.dashboard.model.DashboardOut`. No file I/O: the caller passes the proposal's
reminder policy and the roster's per-body overrides (:func:`content_policies` reads them)::

    policy, overrides = content_policies(settings)
    with Session(engine_for(settings)) as session:
        board = build_dashboard(session=session, proposal_id=settings.proposal_id,
                                policy=policy, overrides=overrides)
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from types import MappingProxyType
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from council.config import Settings
from council.dashboard.model import (
    DashboardBody,
    DashboardCell,
    DashboardOut,
    DashboardPoint,
    Liaison,
    MailboxStatus,
    Progress,
    ReminderSent,
    TimelineEntry,
)
from council.errors import UnknownProposalError
from council.perf import gc_paused
from council.rules.calendar import next_working_day
from council.rules.formatting import HELSINKI, fi_date, today_helsinki
from council.rules.freshness import source_silent
from council.rules.reminders import reminder_due_on, response_deadline
from council.rules.transitions import effective_status
from council.store.proposals import proposal_content
from models.enums import (
    EVENT_LABEL_FI,
    STATUS_LABEL_FI,
    CandidateState,
    DecisionStatus,
    EventKind,
    MessageKind,
    MessageState,
)
from models.schemas import ReminderPolicyIn, ReminderPolicyOverrideIn
from models.tables import (
    NO_DUTIES_POINT,
    Body,
    Candidate,
    Decision,
    Event,
    IntakeSource,
    Message,
    Point,
    Proposal,
    Recipient,
)

log = logging.getLogger(__name__)

TIMELINE_LIMIT = 50


DETAIL_MAX = 120


DONE = frozenset({DecisionStatus.decided, DecisionStatus.final})


DEFAULT_POLICY = ReminderPolicyIn()


NO_OVERRIDES: Mapping[str, ReminderPolicyOverrideIn] = MappingProxyType({})


MESSAGE_KIND_FI: dict[str, str] = {
    MessageKind.proposal: "esitys",
    MessageKind.reminder: "muistutus",
    MessageKind.combined_reminder: "yhdistetty muistutus",
    MessageKind.duty_description: "toimenkuva",
    MessageKind.confirmation: "vahvistus",
    MessageKind.digest: "kooste",
}


def _aware(value: datetime) -> datetime:
    """SQLite returns naive datetimes; everything is stored in UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def fi_datetime(value: datetime) -> str:
    """Helsinki time in the Finnish form: 28.11.2026 klo 10.15."""
    local = _aware(value).astimezone(HELSINKI)
    return f"{fi_date(local.date())} klo {local.hour}.{local.minute:02d}"


def _progress(decided: int, total: int) -> Progress:
    return Progress(decided=decided, total=total, percent=(100 * decided // total) if total else 0)


def _short(text: str) -> str:
    return text if len(text) <= DETAIL_MAX else text[: DETAIL_MAX - 1] + "…"


def _status_text(value: Any) -> str:
    """A status from an event: a plain value (mark_sent) or a cell snapshot (corrections)."""
    if isinstance(value, dict):
        value = value.get("status")
    try:
        return STATUS_LABEL_FI[DecisionStatus(value)]
    except ValueError:
        return str(value or "?")


def _event_detail(kind: str, data: Mapping[str, Any] | None) -> str:
    """A short, human detail of one event for the timeline."""
    data = data or {}
    try:
        if kind == EventKind.decision_recorded:
            new = data.get("new") or {}
            parts = [str(new.get("outcome") or "")]
            if new.get("meeting_date"):
                parts.append(fi_date(date.fromisoformat(new["meeting_date"])))
            if new.get("section") is not None:
                parts.append(f"§ {new['section']}")
            return _short(", ".join(p for p in parts if p))
        if kind in (EventKind.message_sent, EventKind.message_queued, EventKind.message_failed):
            text = MESSAGE_KIND_FI.get(str(data.get("kind")), str(data.get("kind") or ""))
            if data.get("round"):
                text += f" {data['round']}"
            if kind == EventKind.message_failed and data.get("error"):
                text += f": {data['error']}"
            return _short(text)
        if kind == EventKind.status_changed:
            return _short(f"{_status_text(data.get('old'))} → {_status_text(data.get('new'))}")
        if kind == EventKind.document_generated:
            return _short(str(data.get("document") or data.get("kind") or ""))
        if kind == EventKind.candidate_found:
            return _short(f"{data.get('outcome') or 'esityslistalla'} ({data.get('source') or ''})")
        if kind in (EventKind.candidate_confirmed, EventKind.candidate_rejected):
            reason = f": {data['reason']}" if data.get("reason") else ""
            return _short(f"löydös #{data.get('candidate')}{reason}")
    except (TypeError, ValueError, KeyError):  # an odd event never breaks the dashboard
        log.warning("tapahtuman %s tietoja ei voitu tulkita", kind)
    return ""


def next_reminder_on(
    *,
    sent_on: date | None,
    reminders: list[ReminderSent],
    open_cells: list[DashboardCell],
    policy: ReminderPolicyIn,
    today: date,
) -> date | None:
    """The day the body's next reminder falls due (never before ``today``), or None when none will.

    The rules of :func:`council.rules.reminders.due_reminder`: none when every point is decided or
    the policy's maximum is reached; not before the day after a meeting that has an open point on
    its agenda; quiet days move it to the next working day.
    """
    if sent_on is None or not open_cells or len(reminders) >= policy.max_reminders:
        return None
    last_on = reminders[-1].date_iso if reminders else None
    day = max(reminder_due_on(len(reminders) + 1, sent_on, last_on, policy), today)
    meetings = [c.meeting_date_iso for c in open_cells if c.meeting_date_iso and c.meeting_date_iso >= day]
    if meetings:
        day = max(meetings) + timedelta(days=1)
    return next_working_day(day, policy)


def build_dashboard(*args, **kwargs) -> DashboardOut:  # noqa: ANN002, ANN003
    """See :func:`_build_dashboard`; runs it with the garbage collector paused."""
    with gc_paused():
        return _build_dashboard(*args, **kwargs)


def _build_dashboard(
    *,
    session: Session,
    proposal_id: str,
    today: date | None = None,
    policy: ReminderPolicyIn = DEFAULT_POLICY,
    overrides: Mapping[str, ReminderPolicyOverrideIn] = NO_OVERRIDES,
) -> DashboardOut:
    """The dashboard of one proposal, read in eight SQL statements whatever the number of bodies.

    ``policy`` is the proposal's reminder policy and ``overrides`` the roster's per-body changes
    (body id → override); a body is overdue when it has an open point and its proposal email was
    delivered more than the merged ``deadline_days`` before ``today``. A cell counts the reminders
    delivered while its point was open (before its decision was recorded); an open point whose
    agenda meeting is before ``today`` is ``agenda_past``, and without a recorded outcome it flags
    the body for follow-up.
    """
    today = today or today_helsinki()
    proposal = session.execute(
        select(Proposal.title, Proposal.duties_point, Proposal.sender, Proposal.preparer).where(
            Proposal.id == proposal_id
        )
    ).one_or_none()
    if proposal is None:
        raise UnknownProposalError(proposal_id, "Aja ensin: council init")
    points = session.execute(
        select(Point.number, Point.short_title, Point.title)
        .where(Point.proposal_id == proposal_id)
        .order_by(Point.number)
    ).all()
    cells = session.execute(
        select(
            Decision.body_id,
            Body.name,
            Decision.point_number,
            Decision.status,
            Decision.outcome,
            Decision.meeting_date,
            Decision.section,
            Decision.liaison,
            Decision.updated_at,
            # A proposal that reached a body outside the service (a campaign taken over) counts
            # from that day; read with the cells, not in a statement of its own.
            Recipient.sent_outside_on,
        )
        .join(Body, Body.id == Decision.body_id)
        .outerjoin(
            Recipient,
            (Recipient.proposal_id == Decision.proposal_id) & (Recipient.body_id == Decision.body_id),
        )
        .where(Decision.proposal_id == proposal_id)
    ).all()
    # The business day of sending (``logical_date``) drives the deadline; ``sent_at`` is the clock time.
    sent_rows = {
        body_id: (_aware(at), day)
        for body_id, at, day in session.execute(
            select(Message.body_id, Message.sent_at, Message.logical_date).where(
                Message.proposal_id == proposal_id,
                Message.kind == MessageKind.proposal.value,
                Message.round == 0,
                Message.state == MessageState.sent.value,
                Message.sent_at.is_not(None),
            )
        )
    }
    reminders_sent: dict[str, list[tuple[ReminderSent, datetime]]] = {}
    for body_id, round_, at, day in session.execute(
        select(Message.body_id, Message.round, Message.sent_at, Message.logical_date)
        .where(
            Message.proposal_id == proposal_id,
            Message.kind == MessageKind.reminder.value,
            # a round carried by a combined reminder went out when the combined email did
            Message.state.in_((MessageState.sent.value, MessageState.carried.value)),
            Message.sent_at.is_not(None),
        )
        .order_by(Message.body_id, Message.round)
    ):
        sent_on = day or _aware(at).astimezone(HELSINKI).date()
        reminders_sent.setdefault(body_id, []).append(
            (ReminderSent(round=round_, date=fi_date(sent_on), date_iso=sent_on), _aware(at))
        )
    ranked = (
        select(
            Event.id,
            Event.body_id,
            Event.occurred_at,
            Event.point_number,
            Event.kind,
            Event.actor,
            Event.data,
            func.row_number()
            .over(partition_by=Event.body_id, order_by=(Event.occurred_at.desc(), Event.id.desc()))
            .label("rank"),
        )
        .where(Event.proposal_id == proposal_id, Event.body_id.is_not(None))
        .subquery()
    )
    timelines: dict[str, list[TimelineEntry]] = {}
    for row in session.execute(
        select(ranked).where(ranked.c.rank <= TIMELINE_LIMIT).order_by(ranked.c.body_id, ranked.c.rank)
    ):
        occurred = _aware(row.occurred_at).astimezone(HELSINKI)
        timelines.setdefault(row.body_id, []).append(
            TimelineEntry(
                event_id=row.id,
                occurred_at=occurred,
                time=fi_datetime(occurred),
                kind=row.kind,
                label=EVENT_LABEL_FI.get(row.kind, row.kind),
                point=row.point_number,
                actor=row.actor,
                detail=_event_detail(row.kind, row.data),
            )
        )

    # Decisions found in replies and publications that wait for the coordinator, and the bodies'
    # publications that have not answered for days (issue 16).
    pending = dict(
        session.execute(
            select(Candidate.body_id, func.count())
            .where(Candidate.proposal_id == proposal_id, Candidate.state == CandidateState.pending.value)
            .group_by(Candidate.body_id)
        ).all()
    )
    silent = {
        body_id: since
        for body_id, since in session.execute(
            select(IntakeSource.body_id, IntakeSource.failing_since).where(IntakeSource.failing_since.is_not(None))
        )
        if body_id and source_silent(_aware(since), today)
    }

    names: dict[str, str] = {}
    by_body: dict[str, dict[int, DashboardCell]] = {}
    liaison_rows: dict[str, dict] = {}
    sent_outside: dict[str, date] = {}
    for body_id, name, number, stored, outcome, meeting_date, section, liaison, updated_at, outside in cells:
        names[body_id] = name
        if outside is not None:
            sent_outside[body_id] = outside
        status = effective_status(DecisionStatus(stored), meeting_date, today)
        sent_reminders = reminders_sent.get(body_id, ())
        if status in DONE:  # reminders after the decision was recorded no longer listed this point
            closed = _aware(updated_at)
            reminder_count = sum(1 for _, at in sent_reminders if at <= closed)
        else:
            reminder_count = len(sent_reminders) if status != DecisionStatus.not_sent else 0
        by_body.setdefault(body_id, {})[number] = DashboardCell(
            point=number,
            status=status,
            status_label=STATUS_LABEL_FI[status],
            outcome=outcome,
            meeting_date=fi_date(meeting_date) if meeting_date else None,
            meeting_date_iso=meeting_date,
            section=section,
            reminders=reminder_count,
            agenda_past=status == DecisionStatus.on_agenda and bool(meeting_date and meeting_date < today),
        )
        if number == proposal.duties_point and isinstance(liaison, dict) and liaison.get("name"):
            liaison_rows[body_id] = liaison

    numbers = [p.number for p in points]
    bodies: list[DashboardBody] = []
    for body_id in sorted(names, key=lambda b: (names[b].casefold(), b)):
        row_cells = [
            by_body[body_id].get(n)
            or DashboardCell(
                point=n,
                status=DecisionStatus.not_sent,
                status_label=STATUS_LABEL_FI[DecisionStatus.not_sent],
                outcome=None,
                meeting_date=None,
                meeting_date_iso=None,
                section=None,
            )
            for n in numbers
        ]
        open_cells = [c for c in row_cells if c.status not in DONE]
        open_points = [c.point for c in open_cells]
        merged = policy.merged(overrides.get(body_id))
        days = merged.deadline_days
        sent, logical_day = sent_rows.get(body_id, (None, None))
        sent_day = (
            logical_day or (sent.astimezone(HELSINKI).date() if sent else None) or sent_outside.get(body_id)
        )
        deadline = response_deadline(sent_day, merged) if sent_day else None
        late = (today - deadline).days if deadline and open_points and today > deadline else 0
        reminders = [r for r, _ in reminders_sent.get(body_id, ())]
        next_on = next_reminder_on(
            sent_on=sent_day, reminders=reminders, open_cells=open_cells, policy=merged, today=today
        )
        bodies.append(
            DashboardBody(
                body_id=body_id,
                name=names[body_id],
                cells=row_cells,
                open_points=open_points,
                sent_at=sent.astimezone(HELSINKI) if sent else None,
                sent_date=fi_date(sent_day) if sent_day else None,
                deadline_days=days,
                deadline=fi_date(deadline) if deadline else None,
                deadline_iso=deadline,
                overdue=late > 0,
                days_overdue=late,
                reminders_sent=reminders,
                next_reminder=fi_date(next_on) if next_on else None,
                next_reminder_iso=next_on,
                follow_up=any(c.agenda_past and not c.outcome for c in open_cells),
                pending_candidates=pending.get(body_id, 0),
                source_silent_since=fi_date(_aware(silent[body_id]).astimezone(HELSINKI).date())
                if body_id in silent
                else None,
                timeline=timelines.get(body_id, []),
            )
        )

    done = {n: sum(1 for b in bodies if b.cells[i].status in DONE) for i, n in enumerate(numbers)}
    generated = datetime.now(HELSINKI)
    return DashboardOut(
        proposal_id=proposal_id,
        title=proposal.title,
        sender=proposal.sender,
        preparer=proposal.preparer,
        duties_point=proposal.duties_point,
        has_duty_description=proposal.duties_point != NO_DUTIES_POINT,
        today=today,
        generated_at=generated,
        generated_at_text=fi_datetime(generated),
        overall=_progress(sum(done.values()), len(bodies) * len(numbers)),
        points=[
            DashboardPoint(
                number=p.number,
                short_title=p.short_title,
                title=p.title,
                progress=_progress(done[p.number], len(bodies)),
            )
            for p in points
        ],
        bodies=bodies,
        liaisons=[
            Liaison(
                body_id=b.body_id,
                body_name=b.name,
                name=str(liaison_rows[b.body_id].get("name", "")),
                title=str(liaison_rows[b.body_id].get("title", "")),
                email=str(liaison_rows[b.body_id].get("email", "")),
                work_time=str(liaison_rows[b.body_id].get("work_time", "")),
            )
            for b in bodies
            if b.body_id in liaison_rows
        ],
        overdue=[b.body_id for b in bodies if b.overdue],
        follow_up=[b.body_id for b in bodies if b.follow_up],
        pending_candidates=sum(pending.values()),
    )


def content_policies(
    settings: Settings, proposal_id: str | None = None
) -> tuple[ReminderPolicyIn, dict[str, ReminderPolicyOverrideIn]]:
    """The proposal's reminder policy and the roster's per-body overrides, from the content files."""
    from council.content.loading import load_roster

    proposal = proposal_content(settings, proposal_id)
    roster = load_roster(settings.path(settings.roster_file))
    overrides = {b.id: b.reminder_policy for b in roster.bodies if b.reminder_policy is not None}
    return proposal.reminder_policy, overrides


def mailbox_status(*, session: Session) -> MailboxStatus | None:
    """The mailbox's last reading from its events; None when none was ever read."""
    kinds = (EventKind.mailbox_read.value, EventKind.mailbox_failed.value)
    last = session.execute(
        select(Event.id, Event.kind, Event.occurred_at, Event.data)
        .where(Event.kind.in_(kinds))
        .order_by(Event.id.desc())
        .limit(1)
    ).first()
    if last is None:
        return None
    last_ok = session.execute(
        select(Event.id, Event.occurred_at)
        .where(Event.kind == EventKind.mailbox_read.value)
        .order_by(Event.id.desc())
        .limit(1)
    ).first()
    ok = last.kind == EventKind.mailbox_read.value
    first_failed = None
    if not ok:
        first_failed = session.scalar(
            select(Event.occurred_at)
            .where(Event.kind == EventKind.mailbox_failed.value, Event.id > (last_ok.id if last_ok else 0))
            .order_by(Event.id)
            .limit(1)
        )
    return MailboxStatus(
        host=str((last.data or {}).get("host") or ""),
        ok=ok,
        last_read=fi_datetime(last.occurred_at),
        last_ok=fi_datetime(last_ok.occurred_at) if last_ok else None,
        failing_since=fi_datetime(first_failed) if first_failed else None,
        error=None if ok else (last.data or {}).get("error"),
    )
