"""The weekly committee digest: what changed this week, with the status report attached.

One message per ISO week (outbox round ``YYYYWW``, no body); nothing is sent when nothing changed.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from council.config import Settings
from council.delivery.mail import Mailer
from council.errors import CouncilError
from council.paths import inside
from council.perf import gc_paused
from council.rendering.render import render_mail
from council.rules.formatting import HELSINKI, fi_date
from council.services.committee import write_status_report
from council.services.intake import source_report
from council.store.engine import engine_for
from council.store.outbox import AlreadyQueuedError, queue_combined, queue_message
from council.store.proposals import proposal_content
from models.contexts import CombinedDigestMailContext, DigestMailContext
from models.enums import EventKind, MessageKind, MessageState, ProposalState
from models.results import DeliveryReport
from models.tables import Body, Event, Message, Proposal


def week_round(day: date) -> int:
    year, week, _ = day.isocalendar()
    return year * 100 + week


def changes_since(*, session: Session, proposal_id: str, since: datetime, until: datetime) -> list[str]:
    """This week's changes in Finnish, one line each (one SQL statement)."""
    rows = session.execute(
        # Plain columns, not Event entities: the digest only reads them, and a week of a national
        # campaign is tens of thousands of rows.
        select(Event.kind, Event.body_id, Event.point_number, Event.data, Body.name)
        .outerjoin(Body, Body.id == Event.body_id)
        .where(
            Event.proposal_id == proposal_id,
            Event.occurred_at >= since,
            Event.occurred_at < until,
            Event.kind.in_((EventKind.decision_recorded.value, EventKind.message_sent.value)),
        )
        .order_by(Event.id)
    ).all()
    lines: list[str] = []
    reminders: dict[str, int] = {}
    with gc_paused():
        _describe(rows, lines, reminders)
    for who, count in sorted(reminders.items()):
        lines.append(f"{who}: muistutus lähetetty ({count})")
    return lines


def _describe(rows, lines: list[str], reminders: dict[str, int]) -> None:  # noqa: ANN001 - SQLAlchemy rows
    for event in rows:
        who = event.name or event.body_id or ""
        if event.kind == EventKind.decision_recorded.value:
            new = event.data.get("new", {})
            meeting = new.get("meeting_date")
            when = fi_date(date.fromisoformat(meeting)) if meeting else ""
            lines.append(
                f"{who}, kohta {event.point_number}: {new.get('outcome')} {when} § {new.get('section')}"
            )
            if (new.get("liaison") or {}).get("name"):
                lines.append(f"{who}: järjestöyhdyshenkilöksi nimettiin {new['liaison']['name']}")
        elif event.data.get("kind") == MessageKind.reminder.value:
            reminders[who] = reminders.get(who, 0) + 1
        elif event.data.get("kind") == MessageKind.proposal.value:
            lines.append(f"{who}: esitys lähetetty")


@dataclass(frozen=True)
class DigestPlan:
    """What this week's digest needs: ``message_id`` is the outbox row to deliver, when there is one.

    ``state`` is ``queued`` (new, or left queued by an earlier failed try: deliver it), ``sent``
    (already delivered this week), ``failed`` (the delivery failed for good), ``no_changes`` or
    ``no_recipients``; ``text`` says it in Finnish for a log or the command line.
    """

    state: str
    message_id: int | None = None
    last_error: str | None = None

    @property
    def text(self) -> str:
        return {
            "queued": "Viikkokooste jonossa.",
            "sent": "Viikkokooste oli jo lähetetty.",
            "failed": f"Viikkokoosteen lähetys epäonnistui pysyvästi: {self.last_error or 'katso council history'}",
            "no_changes": "Ei muutoksia tällä viikolla: koostetta ei lähetetty.",
            "no_recipients": "Esityksessä ei ole valiokunnan osoitteita (committee_emails): ei koostetta.",
            "not_made": f"Viikkokoostetta ei voitu koota: {self.last_error}",
        }[self.state]


#: A digest planned twice and found queued by another run both times.
RACED = "toinen ajo kokosi saman viikon koostetta samaan aikaan; aja viikkokooste uudelleen"


def _for(settings: Settings, proposal_id: str) -> Settings:
    return settings.model_copy(update={"proposal_id": proposal_id})


def _existing_plan(session: Session, proposal_id: str, week: int) -> DigestPlan | None:
    """The plan of the week's row when there is one; a row carried by a combined digest answers
    with that digest's state."""
    row = session.execute(
        select(Message.id, Message.state, Message.last_error, Message.carried_by).where(
            Message.proposal_id == proposal_id,
            Message.kind == MessageKind.digest.value,
            Message.round == week,
            Message.body_id.is_(None),
        )
    ).first()
    if row is None:
        return None
    if row.state == MessageState.carried.value and row.carried_by is not None:
        row = session.execute(
            select(Message.id, Message.state, Message.last_error).where(Message.id == row.carried_by)
        ).one()
    state = MessageState(row.state)
    if state == MessageState.sending:  # claimed by a run that may have died: deliver decides
        state = MessageState.queued
    return DigestPlan(state.value, row.id, row.last_error)


@dataclass(frozen=True)
class _Fresh:
    """A proposal whose week has changes and no digest yet."""

    proposal_id: str
    recipients: tuple[str, ...]
    changes: list[str]


def _section(
    settings: Settings, fresh: _Fresh, *, today: date, since: datetime, tag: bool
) -> tuple[DigestMailContext, Path]:
    """One proposal's part of a digest and its status report (named after the proposal when
    several reports go in one email)."""
    from council.services.committee import status_report_context

    settings = _for(settings, fresh.proposal_id)
    proposal = proposal_content(settings)
    report_context = status_report_context(settings, today=today)
    report = write_status_report(
        settings,
        today=today,
        folder=inside(settings.proposal_dir(proposal.id), "viikkokooste"),
        context=report_context,
        tag=proposal.short_title if tag else None,
    )
    _, week, _ = today.isocalendar()
    ctx = DigestMailContext(
        sender=proposal.sender,
        short_title=proposal.short_title,
        diary_number=proposal.diary_number,
        week=str(week),
        since=fi_date(since.date()),
        until=fi_date(today),
        changes=fresh.changes,
        summary=report_context.summary,
        attachment_names=[report.name],
    )
    return ctx, report


def prepare_digests(
    settings: Settings, proposal_ids: list[str], *, today: date, actor: str, planned_again: bool = False
) -> dict[str, DigestPlan]:
    """Queue this week's digest to the committee for each of ``proposal_ids`` that changed and has
    none yet; proposals with the same committee addresses share one email (one section and one
    status report each), so the committee gets one digest a week.

    One digest per proposal and ISO week: a rerun finds the week's row (its own, or the combined
    one that carried it) and reports its state, so a failed delivery is never taken for "no changes".
    A run that finds a week's row queued by another run meanwhile (a digest of one proposal beside
    the weekly run) plans those proposals once more: that email does not carry the others.
    """
    week = week_round(today)
    until = datetime.combine(today + timedelta(days=1), time.min, tzinfo=HELSINKI)
    since = until - timedelta(days=7)
    engine = engine_for(settings)
    with Session(engine) as session:
        # Silent sources and waiting candidates go in every digest; a silent source alone makes a
        # week worth a digest (the committee hears of it even in a week without decisions).
        report = source_report(session, today)
    sources = report.lines()
    plans: dict[str, DigestPlan] = {}
    groups: dict[tuple[str, ...], list[_Fresh]] = {}
    raced: list[str] = []
    for proposal_id in proposal_ids:
        try:  # one proposal that does not load leaves the others' digests alone
            proposal = proposal_content(_for(settings, proposal_id))
        except CouncilError as exc:
            plans[proposal_id] = DigestPlan("not_made", last_error=str(exc))
            continue
        if not proposal.committee_emails:
            plans[proposal_id] = DigestPlan("no_recipients")
            continue
        with Session(engine) as session:
            existing = _existing_plan(session, proposal_id, week)
            changes = (
                []
                if existing
                else changes_since(session=session, proposal_id=proposal_id, since=since, until=until)
            )
        if existing is not None or not (changes or report.silent):
            plans[proposal_id] = existing or DigestPlan("no_changes")
            continue
        recipients = tuple(str(a) for a in proposal.committee_emails)
        groups.setdefault(tuple(sorted(recipients)), []).append(_Fresh(proposal_id, recipients, changes))
    for fresh_ones in groups.values():
        group, sections = [], []
        for fresh in fresh_ones:
            try:
                sections.append(_section(settings, fresh, today=today, since=since, tag=len(fresh_ones) > 1))
                group.append(fresh)
            except (CouncilError, OSError) as exc:  # its status report could not be made
                plans[fresh.proposal_id] = DigestPlan("not_made", last_error=str(exc))
        if not group:
            continue
        if len(group) == 1:
            sections = [(sections[0][0].model_copy(update={"sources": sources}), sections[0][1])]
        own = [
            render_mail(
                "viikkokooste", ctx, body_id=None, recipients=list(fresh.recipients), attachments=[report]
            )
            for fresh, (ctx, report) in zip(group, sections, strict=True)
        ]
        try:
            message_pk, created = _queue_group(
                settings, group, sections, own, week=week, today=today, actor=actor, sources=sources
            )
        except AlreadyQueuedError:  # another run queued a later one's week (all rolled back)
            created = False
        except (CouncilError, ValueError) as exc:  # a header it cannot carry
            for fresh in group:
                plans[fresh.proposal_id] = DigestPlan("not_made", last_error=str(exc))
            continue
        if not created:  # another run queued one of their weeks since they were planned
            if planned_again:
                for fresh in group:
                    plans[fresh.proposal_id] = DigestPlan("not_made", last_error=RACED)
            else:
                raced += [fresh.proposal_id for fresh in group]
            continue
        for fresh in group:
            plans[fresh.proposal_id] = DigestPlan("queued", message_pk)
    if raced:
        plans.update(prepare_digests(settings, raced, today=today, actor=actor, planned_again=True))
    return {proposal_id: plans[proposal_id] for proposal_id in proposal_ids}


def _queue_group(
    settings: Settings,
    group: list[_Fresh],
    sections: list[tuple[DigestMailContext, Path]],
    own: list,
    *,
    week: int,
    today: date,
    actor: str,
    sources: list[str],
) -> tuple[int, bool]:
    """Queue the digest of proposals that share the committee's addresses: one alone as it is,
    several as one email carrying the others' weeks. Returns (id, created): not created when
    another run has queued the first proposal's week meanwhile (nothing is queued then)."""
    with Session(engine_for(settings)) as session, session.begin():
        if len(group) == 1:
            message_pk, created = queue_message(
                session=session,
                settings=settings,
                proposal_id=group[0].proposal_id,
                kind=MessageKind.digest,
                round_=week,
                mail=own[0],
                actor=actor,
                logical_date=today,
            )
        else:
            combined = CombinedDigestMailContext(
                sender=sections[0][0].sender,
                week=sections[0][0].week,
                since=sections[0][0].since,
                until=sections[0][0].until,
                sections=[ctx for ctx, _ in sections],
                attachment_names=[report.name for _, report in sections],
                sources=sources,
            )
            message_pk, created = queue_combined(
                session=session,
                settings=settings,
                carrier=(group[0].proposal_id, week),
                mail=render_mail(
                    "viikkokooste_koottu",
                    combined,
                    body_id=None,
                    recipients=list(group[0].recipients),
                    attachments=[report for _, report in sections],
                ),
                carried=[(f.proposal_id, week, mail) for f, mail in zip(group[1:], own[1:], strict=True)],
                actor=actor,
                logical_date=today,
                kind=MessageKind.digest,
                carried_kind=MessageKind.digest,
            )
    return message_pk, created


def prepare_digest(settings: Settings, *, today: date, actor: str) -> DigestPlan:
    """This week's digest of the settings' proposal alone (see :func:`prepare_digests`)."""
    return prepare_digests(settings, [settings.proposal_id], today=today, actor=actor)[settings.proposal_id]


def _delivered(settings: Settings, message_pk: int, report: DeliveryReport) -> str:
    """What became of one digest's delivery, in Finnish; raises :class:`CouncilError` when it
    failed (for now or for good) or another run holds it."""
    if report.failed:
        reasons = "; ".join(map(str, report.failed.values()))
        raise CouncilError(f"Viikkokoosteen lähetys epäonnistui: {reasons}")
    if report.sent:
        return "Viikkokooste lähetetty."
    with Session(engine_for(settings)) as session:
        row = session.get_one(Message, message_pk)
        state, retry_at = MessageState(row.state), row.next_attempt_at
    if state == MessageState.sent:
        return "Viikkokooste oli jo lähetetty."
    if state == MessageState.queued and retry_at is not None:
        when = retry_at.astimezone(HELSINKI)
        raise CouncilError(
            f"Viikkokooste odottaa uutta yritystä {fi_date(when.date())} klo {when:%H.%M} "
            "(edellinen yritys epäonnistui); seuranta-ajo lähettää sen"
        )
    raise CouncilError(
        "Viikkokooste on lähetyksessä toisessa ajossa tai sen lähetys jäi kesken; "
        "keskeytynyt lähetys yritetään uudelleen 15 minuutin kuluttua"
    )


def send_digest(settings: Settings, *, today: date, mailer: Mailer, actor: str) -> str:
    """Queue and deliver this week's digest of the settings' proposal; returns what happened in
    Finnish, or raises :class:`CouncilError` (see :func:`send_digests`)."""
    return send_digests(
        settings, today=today, mailer=mailer, actor=actor, proposal_ids=[settings.proposal_id]
    )[settings.proposal_id]


class DigestsFailed(CouncilError):
    """One or more proposals' digests failed; ``results`` holds what happened to each."""

    advice = (
        "Katso epäonnistuneen esityksen tilanne komennolla council history; seuranta-ajo yrittää uudelleen."
    )

    def __init__(self, message: str, results: dict[str, str]):
        super().__init__(message)
        self.results = results


def digest_proposals(settings: Settings) -> list[str]:
    """The proposals a weekly digest is about: every sent one (drafts have nothing to tell yet)."""
    with Session(engine_for(settings)) as session:
        return list(
            session.scalars(
                select(Proposal.id)
                .where(Proposal.state == ProposalState.sent.value)
                .order_by(Proposal.created_at, Proposal.id)
            )
        )


def send_digests(
    settings: Settings, *, today: date, mailer: Mailer, actor: str, proposal_ids: list[str] | None = None
) -> dict[str, str]:
    """This week's digest of every sent proposal (or of ``proposal_ids``), one email for the
    proposals that share the committee's addresses; what happened to each proposal, in Finnish.

    A failure of one email does not stop the others; :class:`DigestsFailed` afterwards carries
    every result, so a Prefect run or the command line reports a failure instead of "nothing to
    send".
    """
    from council.services.send import deliver_messages

    ids = proposal_ids if proposal_ids is not None else digest_proposals(settings)
    if not ids:
        return {"": "Yhtään lähetettyä esitystä ei ole seurannassa: ei koostetta."}
    plans = prepare_digests(settings, ids, today=today, actor=actor)
    outcome: dict[int, str | CouncilError] = {}
    for message_pk in dict.fromkeys(p.message_id for p in plans.values() if p.state == "queued"):
        assert message_pk is not None
        # Backoff respected: a retry seconds after a 4xx (greylisting) would only use up attempts;
        # the daily follow-up run delivers a digest left queued.
        report = deliver_messages(settings, [message_pk], mailer, actor=actor, respect_backoff=True)
        try:
            outcome[message_pk] = _delivered(settings, message_pk, report)
        except CouncilError as exc:
            outcome[message_pk] = exc
    results: dict[str, str] = {}
    failed: list[str] = []
    shared = Counter(p.message_id for p in plans.values() if p.message_id is not None)
    for proposal_id, plan in plans.items():
        said: str | CouncilError = plan.text
        if plan.state in ("failed", "not_made"):
            said = CouncilError(plan.text)
        elif plan.state == "queued" and plan.message_id is not None:
            said = outcome[plan.message_id]
        if isinstance(said, CouncilError):
            failed.append(f"{proposal_id}: {said}")
            said = str(said)
        elif plan.message_id is not None and shared[plan.message_id] > 1:
            said += f" (yksi viesti, jossa on {shared[plan.message_id]} esitystä)"
        results[proposal_id] = said
    if failed:
        raise DigestsFailed("; ".join(failed) if len(ids) > 1 else results[ids[0]], results)
    return results
