"""The weekly committee digest: what changed this week, with the status report attached.

One message per ISO week (outbox round ``YYYYWW``, no body); nothing is sent when nothing changed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

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
from council.store.engine import engine_for
from council.store.outbox import queue_message
from council.store.proposals import proposal_content
from models.contexts import DigestMailContext
from models.enums import EventKind, MessageKind, MessageState, ProposalState
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
        }[self.state]


def prepare_digest(settings: Settings, *, today: date, actor: str) -> DigestPlan:
    """Queue this week's digest to the committee unless nothing changed or it already exists.

    One digest per ISO week: a rerun finds the week's row and reports its state instead of
    queueing another, so a failed delivery is never mistaken for "no changes".
    """
    from council.services.committee import status_report_context

    proposal = proposal_content(settings)
    if not proposal.committee_emails:
        return DigestPlan("no_recipients")
    engine = engine_for(settings)
    with Session(engine) as session:
        existing = session.execute(
            select(Message.id, Message.state, Message.last_error).where(
                Message.proposal_id == proposal.id,
                Message.kind == MessageKind.digest.value,
                Message.round == week_round(today),
            )
        ).first()
    if existing is not None:
        state = MessageState(existing.state)
        if state == MessageState.sending:  # claimed by a run that may have died: deliver decides
            state = MessageState.queued
        return DigestPlan(state.value, existing.id, existing.last_error)
    until = datetime.combine(today + timedelta(days=1), time.min, tzinfo=HELSINKI)
    since = until - timedelta(days=7)
    with Session(engine) as session:
        changes = changes_since(session=session, proposal_id=proposal.id, since=since, until=until)
    if not changes:
        return DigestPlan("no_changes")
    report_context = status_report_context(settings, today=today)
    report = write_status_report(
        settings,
        today=today,
        folder=inside(settings.proposal_dir(proposal.id), "viikkokooste"),
        context=report_context,
    )
    summary = report_context.summary
    _, week, _ = today.isocalendar()
    ctx = DigestMailContext(
        sender=proposal.sender,
        short_title=proposal.short_title,
        diary_number=proposal.diary_number,
        week=str(week),
        since=fi_date(since.date()),
        until=fi_date(today),
        changes=changes,
        summary=summary,
        attachment_names=[report.name],
    )
    with Session(engine) as session, session.begin():
        message_pk, _ = queue_message(
            session=session,
            settings=settings,
            proposal_id=proposal.id,
            kind=MessageKind.digest,
            round_=week_round(today),
            mail=render_mail(
                "viikkokooste",
                ctx,
                body_id=None,
                recipients=[str(a) for a in proposal.committee_emails],
                attachments=[report],
            ),
            actor=actor,
            logical_date=today,
        )
    return DigestPlan("queued", message_pk)


def send_digest(settings: Settings, *, today: date, mailer: Mailer, actor: str) -> str:
    """Queue and deliver this week's digest; returns what happened in Finnish.

    Raises :class:`CouncilError` when the delivery failed (for now or for good), so a Prefect run
    or the command line reports a failure instead of "nothing to send".
    """
    from council.services.send import deliver_messages

    plan = prepare_digest(settings, today=today, actor=actor)
    if plan.state == "failed":
        raise CouncilError(plan.text)
    if plan.state != "queued" or plan.message_id is None:
        return plan.text
    # Backoff respected: a retry seconds after a 4xx (greylisting) would only use up attempts; the
    # daily follow-up run delivers a digest left queued.
    report = deliver_messages(settings, [plan.message_id], mailer, actor=actor, respect_backoff=True)
    if report.failed:
        reasons = "; ".join(map(str, report.failed.values()))
        raise CouncilError(f"Viikkokoosteen lähetys epäonnistui: {reasons}")
    if report.sent:
        return "Viikkokooste lähetetty."
    with Session(engine_for(settings)) as session:
        row = session.get_one(Message, plan.message_id)
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


class DigestsFailed(CouncilError):
    """One or more proposals' digests failed; ``results`` holds what happened to each."""

    advice = "Katso epäonnistuneen esityksen tilanne komennolla council history; seuranta-ajo yrittää uudelleen."

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
    settings: Settings, *, today: date, send_one: Callable[[str], str], proposal_ids: list[str] | None = None
) -> dict[str, str]:
    """This week's digest of every sent proposal (or of ``proposal_ids``): ``send_one(proposal_id)``
    for each, each proposal its own message; what happened to each, in Finnish. A failure of one
    does not stop the others; :class:`DigestsFailed` afterwards carries every result."""
    ids = proposal_ids if proposal_ids is not None else digest_proposals(settings)
    results: dict[str, str] = {}
    failed: list[str] = []
    for proposal_id in ids:
        try:
            results[proposal_id] = send_one(proposal_id)
        except CouncilError as exc:
            results[proposal_id] = str(exc)
            failed.append(f"{proposal_id}: {exc}")
    if failed:
        said = "; ".join(failed) if len(ids) > 1 else results[ids[0]]
        raise DigestsFailed(said, results)
    if not ids:
        results[""] = "Yhtään lähetettyä esitystä ei ole seurannassa: ei koostetta."
    return results
