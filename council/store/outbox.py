"""The outbox: one row per email that must exist, unique per (proposal, body, kind, round).

This table, not Prefect, guarantees "each email once": a message is queued once (the unique key),
claimed by one sender at a time (compare-and-set on ``state``), and marked sent in the same
transaction that records its effects.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from council.config import Settings
from council.delivery.mail import RenderedMail, compose, wire_bytes
from council.store.tracking import add_event, now
from models.enums import EventKind, MessageKind, MessageState
from models.tables import Event, Message

MAX_ATTEMPTS = 5
#: A message left in ``sending`` longer than this (a sender crashed mid-send) is sent again,
#: with the same Message-ID so a receiving system can recognise the duplicate.
SENDING_LEASE = timedelta(minutes=15)
#: Backoff after a transient failure: 10 min, 20 min, 40 min … at most 12 h (see `retry_after`).
BACKOFF_BASE = timedelta(minutes=10)
BACKOFF_MAX = timedelta(hours=12)


def retry_after(attempts: int) -> timedelta:
    """How long to wait before the next automatic attempt after ``attempts`` failed ones."""
    return min(BACKOFF_BASE * (2 ** max(attempts - 1, 0)), BACKOFF_MAX)


def find_messages(
    *, session: Session, proposal_id: str, kind: MessageKind, body_ids: list[str], round_: int = 0
) -> dict[str, Message]:
    """Existing outbox rows for these bodies, in one query."""
    rows = session.scalars(
        select(Message).where(
            Message.proposal_id == proposal_id,
            Message.kind == kind.value,
            Message.round == round_,
            Message.body_id.in_(body_ids),
        )
    )
    return {m.body_id: m for m in rows}


def bodies_mailed_on(*, session: Session, day: date, other_than: str) -> set[str]:
    """Bodies that have a message of another proposal than ``other_than`` for ``day`` (queued, being
    sent or sent): the service sends a body at most one email a day, so their reminders wait."""
    return set(
        session.scalars(
            select(Message.body_id).where(
                Message.proposal_id != other_than,
                Message.body_id.is_not(None),
                Message.logical_date == day,
                Message.state.in_(
                    (MessageState.queued.value, MessageState.sending.value, MessageState.sent.value)
                ),
            )
        )
    )


def outbox_content(settings: Settings, mail: RenderedMail) -> dict:
    """The outbox columns that hold ``mail`` itself: a new Message-ID and the composed bytes, so
    every attempt sends exactly the same message. Composing takes milliseconds: a caller queueing
    many messages in one transaction composes them first, outside it, and passes each one's content
    to :func:`queue_message` (a write transaction on SQLite holds the database's one write lock)."""
    outgoing = mail.outgoing(settings)
    return {
        "message_id": outgoing.message_id,
        "wire": wire_bytes(compose(outgoing)),
        "recipients": mail.recipients,
        "cc": list(mail.cc),
        "subject": mail.subject,
        "body_text": mail.body_text,
        "body_html": mail.body_html,
        "attachments": [str(p.relative_to(settings.outputs)) for p in mail.attachments],
    }


def _queued_event(*, session: Session, actor: str, message: Message, content: dict, **extra: object) -> None:
    add_event(
        session=session,
        kind=EventKind.message_queued,
        actor=actor,
        proposal_id=message.proposal_id,
        body_id=message.body_id,
        data={
            "message": message.id,
            "kind": message.kind,
            "round": message.round,
            "message_id": content["message_id"],
            "recipients": content["recipients"],
            "cc": content["cc"],
            **extra,
        },
    )


def queue_message(
    *,
    session: Session,
    settings: Settings,
    proposal_id: str,
    kind: MessageKind,
    round_: int,
    mail: RenderedMail,
    actor: str,
    logical_date: date | None = None,
    content: dict | None = None,
) -> tuple[int, bool]:
    """Compose ``mail`` with its own Message-ID (or take ``content``, its :func:`outbox_content`)
    and insert it unless its key exists; returns (id, created).

    The composed bytes are stored with the row, so every attempt sends exactly the same message.
    A concurrent run that inserted the same key first wins; this one gets the existing row.
    """
    body_id = mail.body_id
    content = content or outbox_content(settings, mail)
    row = Message(
        proposal_id=proposal_id,
        body_id=body_id,
        kind=kind.value,
        round=round_,
        state=MessageState.queued.value,
        attempts=0,
        created_at=now(),
        logical_date=logical_date,
        **content,
    )
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        existing = session.scalars(
            select(Message.id).where(
                Message.proposal_id == proposal_id,
                Message.body_id == body_id,
                Message.kind == kind.value,
                Message.round == round_,
            )
        ).one()
        return existing, False
    _queued_event(session=session, actor=actor, message=row, content=content)
    return row.id, True


class AlreadyQueuedError(ValueError):
    """A round meant for a combined email was queued on its own by another run."""

    def __init__(self, proposal_id: str, body_id: str | None, round_: int) -> None:
        super().__init__(
            f"esityksen {proposal_id} viesti (kierros {round_}) vastaanottajalle {body_id or 'valiokunta'} "
            "on jo jonossa toisen ajon tekemänä; yhdistettyä viestiä ei tehty"
        )


def queue_combined(
    *,
    session: Session,
    settings: Settings,
    carrier: tuple[str, int],
    mail: RenderedMail,
    carried: list[tuple[str, int, RenderedMail]],
    actor: str,
    logical_date: date,
    kind: MessageKind = MessageKind.combined_reminder,
    carried_kind: MessageKind = MessageKind.reminder,
) -> tuple[int, bool]:
    """Queue one email that covers several proposals (``kind``, keyed by its ``carrier`` proposal
    and round) and, as ``carried`` rows pointing to it, each proposal's own ``carried_kind`` round
    (proposal, round, the mail it would have had alone, kept as the record): all in the caller's
    transaction, so a crash leaves all or none. Returns (id, created); when the combined row exists
    already nothing else is queued."""
    combined_pk, created = queue_message(
        session=session,
        settings=settings,
        proposal_id=carrier[0],
        kind=kind,
        round_=carrier[1],
        mail=mail,
        actor=actor,
        logical_date=logical_date,
    )
    if not created:
        return combined_pk, False
    for proposal_id, round_, own in carried:
        row_pk, row_created = queue_message(
            session=session,
            settings=settings,
            proposal_id=proposal_id,
            kind=carried_kind,
            round_=round_,
            mail=own,
            actor=actor,
            logical_date=logical_date,
        )
        if not row_created:
            raise AlreadyQueuedError(proposal_id, own.body_id, round_)
        session.execute(
            update(Message)
            .where(Message.id == row_pk)
            .values(state=MessageState.carried.value, carried_by=combined_pk)
        )
    return combined_pk, True


#: The kinds :func:`queue_combined` queues as a carrier: only a message of these kinds can carry rows.
CARRIER_KINDS = frozenset({MessageKind.combined_reminder.value, MessageKind.digest.value})


def carried_rounds(*, session: Session, combined_pk: int) -> list[Message]:
    """The reminder rounds a combined reminder carries, the oldest proposal's first."""
    return list(
        session.scalars(select(Message).where(Message.carried_by == combined_pk).order_by(Message.id))
    )


def _with_carried(*, session: Session, message: Message) -> list[Message]:
    """``message`` and the rows it carries (none unless its kind carries: no look-up per first send)."""
    if message.kind not in CARRIER_KINDS:
        return [message]
    return [message, *carried_rounds(session=session, combined_pk=message.id)]


def never_delivered(*, session: Session, message: Message) -> bool:
    """True when no failed attempt of ``message`` can have reached anyone (every attempt was
    refused by the server or never got through), so sending it again duplicates nothing."""
    attempts = session.scalars(
        select(Event.data).where(
            Event.kind == EventKind.message_failed.value,
            Event.proposal_id == message.proposal_id,
            Event.body_id == message.body_id,
        )
    ).all()
    mine = [data for data in attempts if data.get("message") == message.id]
    return bool(mine) and all(data.get("maybe_delivered") is False for data in mine)


def requeue_failed(
    *,
    session: Session,
    settings: Settings,
    message: Message,
    mail: RenderedMail,
    actor: str,
    logical_date: date | None = None,
    content: dict | None = None,
) -> bool:
    """Put a message that failed for good back in the queue as ``mail`` (say, after its address was
    corrected in the roster): a new Message-ID, no attempts yet. Only when the coordinator sends
    again on purpose; automatic retries never touch a failed message. False if it is not failed.
    ``content`` is ``mail``'s :func:`outbox_content` when the caller composed it already.
    """
    previous_error, previous_id = message.last_error, message.message_id
    content = content or outbox_content(settings, mail)
    result = session.execute(
        update(Message)
        .where(Message.id == message.id, Message.state == MessageState.failed.value)
        .values(
            state=MessageState.queued.value,
            attempts=0,
            last_error=None,
            next_attempt_at=None,
            claimed_at=None,
            logical_date=logical_date,
            **content,
        )
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        return False
    _queued_event(
        session=session,
        actor=actor,
        message=message,
        content=content,
        requeued={"previous_message_id": previous_id, "previous_error": (previous_error or "")[:500]},
    )
    return True


def claim(*, session: Session, message_id: int, respect_backoff: bool = False) -> bool:
    """Atomically take a queued (or abandoned ``sending``) message; False if someone else has it.

    With ``respect_backoff`` (automatic retries), a message whose backoff has not passed is left.
    """
    current = now()
    stale = current - SENDING_LEASE
    conditions = [
        Message.id == message_id,
        (Message.state == MessageState.queued.value)
        | ((Message.state == MessageState.sending.value) & (Message.claimed_at < stale)),
    ]
    if respect_backoff:
        conditions.append(Message.next_attempt_at.is_(None) | (Message.next_attempt_at <= current))
    result = session.execute(
        update(Message)
        .where(*conditions)
        .values(state=MessageState.sending.value, attempts=Message.attempts + 1, claimed_at=now())
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def mark_delivered(*, session: Session, message: Message, actor: str) -> list[Message]:
    """``message`` went out: it is sent, and so is each round it carries (their ``sent_at``, no
    error left from an earlier attempt, and a "sent" event in their own proposal's history; their
    state stays ``carried``). Returns the rounds it carries (none for a message of its own)."""
    message.state = MessageState.sent.value
    message.sent_at = now()
    rows = _with_carried(session=session, message=message)
    for row in rows:
        row.sent_at, row.last_error = message.sent_at, None  # an earlier failure's error is over
        add_event(
            session=session,
            kind=EventKind.message_sent,
            actor=actor,
            proposal_id=row.proposal_id,
            body_id=row.body_id,
            data={
                "message": row.id,
                "message_id": message.message_id,
                "kind": row.kind,
                "round": row.round,
                "recipients": message.recipients,
                **({"carried_by": message.id} if row is not message else {}),
            },
        )
    return rows[1:]


def mark_undelivered(
    *,
    session: Session,
    message: Message,
    error: str,
    permanent: bool,
    actor: str,
    maybe_delivered: bool = False,
) -> MessageState:
    """Record a failed attempt: back to queued for a later run, or failed for good.

    ``maybe_delivered`` (a partial refusal, a connection lost mid-send) is kept in the event: a
    failed message that may have reached someone is not put back in the queue by a later send.
    """
    final = permanent or message.attempts >= MAX_ATTEMPTS
    message.state = (MessageState.failed if final else MessageState.queued).value
    if maybe_delivered:
        error = f"{error} (viesti saattoi mennä osalle vastaanottajista)"
    message.last_error = error[:2000]
    message.next_attempt_at = None if final else now() + retry_after(message.attempts)
    # The rounds a combined email carries fail with it, each in its own proposal's history.
    for row in _with_carried(session=session, message=message):
        if row is not message:
            row.last_error = message.last_error
        add_event(
            session=session,
            kind=EventKind.message_failed,
            actor=actor,
            proposal_id=row.proposal_id,
            body_id=row.body_id,
            data={
                "message": row.id,
                "error": error[:500],
                "attempt": message.attempts,
                "final": final,
                "maybe_delivered": maybe_delivered,
                **({"carried_by": message.id} if row is not message else {}),
            },
        )
    return MessageState(message.state)
