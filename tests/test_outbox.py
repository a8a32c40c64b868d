"""The outbox on its own: queue once, claim once, the sending lease, marks, backoff, re-queue, lookup.

Every test runs on SQLite and on PostgreSQL (`sent_any_db`); the outbox's clock is replaced by a
fixed instant so lease and backoff boundaries are asserted to the microsecond.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from council.config import Settings
from council.delivery.mail import RenderedMail
from council.store import outbox
from council.store.engine import make_engine
from council.store.outbox import (
    AlreadyQueuedError,
    bodies_mailed_on,
    carried_rounds,
    claim,
    find_messages,
    mark_delivered,
    mark_undelivered,
    never_delivered,
    outbox_content,
    queue_combined,
    queue_message,
    requeue_failed,
    retry_after,
)
from models.enums import EventKind, MessageKind, MessageState
from models.tables import Event, Message, Proposal

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)
MICRO = timedelta(microseconds=1)
OTHER_PROPOSAL = "toinen-esitys"


class Clock:
    """The outbox's `now`, set by the test."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fixed = Clock(T0)
    monkeypatch.setattr(outbox, "now", fixed)
    return fixed


@pytest.fixture
def db(sent_any_db: Settings) -> Settings:
    """The synced proposal and its six bodies, plus a second proposal row, on SQLite and PostgreSQL."""
    with _session(sent_any_db) as session, session.begin():
        session.add(
            Proposal(
                id=OTHER_PROPOSAL,
                title="Toinen esitys",
                sender="Valiokunta",
                preparer="Valmistelija",
                content_sha256="0" * 64,
                created_at=T0,
            )
        )
    return sent_any_db


def _session(settings: Settings) -> Session:
    return Session(make_engine(settings.effective_database_url))


def _mail(body_id: str | None = "forssa", recipients: list[str] | None = None, cc: list[str] | None = None):
    return RenderedMail(
        body_id=body_id,
        recipients=recipients or [f"kirjaamo@{body_id}.example"],
        subject="Esitys",
        body_text="teksti",
        body_html="<p>teksti</p>",
        attachments=[],
        cc=cc or [],
    )


def _queue(
    settings: Settings,
    body_id: str | None = "forssa",
    kind: MessageKind = MessageKind.proposal,
    round_: int = 0,
    proposal_id: str | None = None,
    mail: RenderedMail | None = None,
    content: dict | None = None,
) -> tuple[int, bool]:
    with _session(settings) as session, session.begin():
        return queue_message(
            session=session,
            settings=settings,
            proposal_id=proposal_id or settings.proposal_id,
            kind=kind,
            round_=round_,
            mail=mail or _mail(body_id),
            actor="test",
            logical_date=date(2026, 3, 2),
            **({"content": content} if content else {}),  # None: the default, composed from `mail`
        )


def _row(settings: Settings, pk: int) -> Message:
    with _session(settings) as session:
        message = session.get_one(Message, pk)
        session.expunge(message)
        return message


def _set(settings: Settings, pk: int, **values: object) -> None:
    with _session(settings) as session, session.begin():
        session.execute(update(Message).where(Message.id == pk).values(**values))


def _claim(settings: Settings, pk: int, *, respect_backoff: bool = False) -> bool:
    with _session(settings) as session, session.begin():
        # The default (a manual send) is left to `claim` itself, so the default is what is tested.
        backoff = {"respect_backoff": True} if respect_backoff else {}
        return claim(session=session, message_id=pk, **backoff)


def _fail(
    settings: Settings, pk: int, *, permanent: bool = False, maybe_delivered: bool = False, error="451"
):
    with _session(settings) as session, session.begin():
        message = session.get_one(Message, pk)
        maybe = {"maybe_delivered": True} if maybe_delivered else {}  # False: the default
        return mark_undelivered(
            session=session, message=message, error=error, permanent=permanent, actor="test", **maybe
        )


def _deliver(settings: Settings, pk: int) -> list[int]:
    """`mark_delivered` in its own transaction; the ids of the rounds it says the message carried."""
    with _session(settings) as session, session.begin():
        return [row.id for row in mark_delivered(session=session, message=session.get_one(Message, pk), actor="test")]


def _events(settings: Settings, kind: EventKind) -> list[dict]:
    with _session(settings) as session:
        return list(session.scalars(select(Event.data).where(Event.kind == kind.value).order_by(Event.id)))


def _requeue(
    settings: Settings, message: Message, mail: RenderedMail | None = None, content: dict | None = None
) -> bool:
    with _session(settings) as session, session.begin():
        return requeue_failed(
            session=session,
            settings=settings,
            message=message,
            mail=mail or _mail(message.body_id, ["korjattu@forssa.example"]),
            actor="test",
            logical_date=date(2026, 3, 9),
            **({"content": content} if content else {}),  # None: the default, composed from `mail`
        )


# --- queueing --------------------------------------------------------------------------------------


def test_queue_creates_one_row_and_one_event_per_key(db: Settings, clock: Clock) -> None:
    """A new key is stored queued with no attempts and its composed bytes; the same key again returns that row."""
    pk, created = _queue(db, mail=_mail("forssa", cc=["pj@forssa.example"]))
    again, created_again = _queue(db, mail=_mail("forssa", ["muu@forssa.example"]))
    row = _row(db, pk)
    assert (created, again, created_again) == (True, pk, False)
    assert (row.state, row.attempts, row.round, row.kind) == ("queued", 0, 0, "proposal")
    assert (row.recipients, row.cc, row.subject, row.attachments) == (
        ["kirjaamo@forssa.example"],
        ["pj@forssa.example"],
        "Esitys",
        [],
    )
    assert (row.created_at, row.logical_date, row.claimed_at, row.next_attempt_at) == (
        T0,
        date(2026, 3, 2),
        None,
        None,
    )
    assert row.wire is not None and row.message_id.encode() in row.wire
    assert _events(db, EventKind.message_queued) == [
        {
            "message": pk,
            "kind": "proposal",
            "round": 0,
            "message_id": row.message_id,
            "recipients": ["kirjaamo@forssa.example"],
            "cc": ["pj@forssa.example"],
        }
    ]


def test_queue_again_finds_its_own_key_among_other_proposals_kinds_and_rounds(db: Settings) -> None:
    """A repeated key returns exactly its own row when the body has rows of another proposal, kind and round."""
    own, _ = _queue(db, "forssa")
    others = {
        _queue(db, "forssa", proposal_id=OTHER_PROPOSAL)[0],
        _queue(db, "forssa", MessageKind.reminder, 0)[0],
        _queue(db, "forssa", MessageKind.proposal, 1)[0],
        _queue(db, "humppila")[0],
    }
    assert len(others | {own}) == 5
    assert _queue(db, "forssa") == (own, False)


# --- claim and lease -------------------------------------------------------------------------------


def test_claim_takes_a_queued_message_once(db: Settings, clock: Clock) -> None:
    """The first claim moves queued to sending, counts the attempt and stamps the time; a second claim fails."""
    pk, _ = _queue(db)
    assert _claim(db, pk) is True
    clock.at = T0 + MINUTE
    assert _claim(db, pk) is False
    row = _row(db, pk)
    assert (row.state, row.attempts, row.claimed_at) == ("sending", 1, T0)


@pytest.mark.parametrize("state", ["sent", "failed"], ids=["sent", "failed"])
def test_claim_never_takes_a_finished_message(db: Settings, clock: Clock, state: str) -> None:
    """A sent or failed message is not claimable, however old its claim."""
    pk, _ = _queue(db)
    _set(db, pk, state=state, claimed_at=T0 - timedelta(days=30), attempts=1)
    assert _claim(db, pk) is False
    assert (_row(db, pk).state, _row(db, pk).attempts) == (state, 1)


def test_claim_of_an_unknown_id_is_refused(db: Settings, clock: Clock) -> None:
    """Claiming an id that has no row returns False."""
    pk, _ = _queue(db)
    assert _claim(db, pk + 1000) is False


@pytest.mark.parametrize(
    ("age", "taken"),
    [
        (timedelta(minutes=1), False),
        (timedelta(minutes=14, seconds=59), False),
        (timedelta(minutes=15), False),
        (timedelta(minutes=15) + MICRO, True),
        (timedelta(hours=3), True),
    ],
    ids=["1min", "14min59s", "exactly-15min", "15min+1us", "3h"],
)
def test_sending_lease_is_fifteen_minutes_exclusive(
    db: Settings, clock: Clock, age: timedelta, taken: bool
) -> None:
    """A `sending` message is taken over only when its claim is strictly older than 15 minutes."""
    pk, _ = _queue(db)
    assert _claim(db, pk) is True
    clock.at = T0 + age
    assert _claim(db, pk) is taken
    row = _row(db, pk)
    assert (row.state, row.attempts, row.claimed_at) == (
        ("sending", 2, T0 + age) if taken else ("sending", 1, T0)
    )


@pytest.mark.parametrize(
    ("next_attempt", "respect", "taken"),
    [
        (None, True, True),
        (T0 - MICRO, True, True),
        (T0, True, True),
        (T0 + MICRO, True, False),
        (T0 + timedelta(hours=1), False, True),
    ],
    ids=["no-backoff", "passed", "exactly-now", "1us-early", "manual-ignores-backoff"],
)
def test_claim_respects_backoff_only_when_asked(
    db: Settings, clock: Clock, next_attempt: datetime | None, respect: bool, taken: bool
) -> None:
    """Automatic retries wait until `next_attempt_at` (inclusive); a manual send ignores it."""
    pk, _ = _queue(db)
    _set(db, pk, next_attempt_at=next_attempt)
    assert _claim(db, pk, respect_backoff=respect) is taken
    assert _row(db, pk).state == ("sending" if taken else "queued")


def test_two_senders_at_once_claim_a_message_once(db: Settings, clock: Clock) -> None:
    """Of two sessions claiming the same message at the same moment, exactly one gets it."""
    pk, _ = _queue(db)
    results = _at_once(lambda: _claim(db, pk), lambda: _claim(db, pk))
    assert sorted(results) == [False, True]
    assert _row(db, pk).attempts == 1


# --- marks and backoff -----------------------------------------------------------------------------


def test_mark_delivered_records_sent_and_its_event(db: Settings, clock: Clock) -> None:
    """Delivered: state sent, sent_at now, the error cleared, one message_sent event naming the message."""
    pk, _ = _queue(db)
    _claim(db, pk)
    _set(db, pk, last_error="451 aiempi")
    clock.at = T0 + 2 * MINUTE
    assert _deliver(db, pk) == []  # a message of its own carries nothing
    row = _row(db, pk)
    assert (row.state, row.sent_at, row.last_error) == ("sent", T0 + 2 * MINUTE, None)
    assert _events(db, EventKind.message_sent) == [
        {
            "message": pk,
            "message_id": row.message_id,
            "kind": "proposal",
            "round": 0,
            "recipients": ["kirjaamo@forssa.example"],
        }
    ]


@pytest.mark.parametrize(
    ("attempts", "permanent", "state", "wait"),
    [
        (1, False, "queued", timedelta(minutes=10)),
        (2, False, "queued", timedelta(minutes=20)),
        (3, False, "queued", timedelta(minutes=40)),
        (4, False, "queued", timedelta(minutes=80)),
        (5, False, "failed", None),
        (6, False, "failed", None),
        (1, True, "failed", None),
    ],
    ids=["1st", "2nd", "3rd", "4th", "5th-is-the-last", "beyond-limit", "permanent"],
)
def test_a_failure_requeues_with_backoff_until_the_fifth_attempt(
    db: Settings, clock: Clock, attempts: int, permanent: bool, state: str, wait: timedelta | None
) -> None:
    """A transient failure of attempt 1–4 queues again after 10·2^(n-1) min; the 5th or a permanent one fails."""
    pk, _ = _queue(db)
    _set(db, pk, state="sending", attempts=attempts, claimed_at=T0)
    assert _fail(db, pk, permanent=permanent, error="451 myöhemmin") == MessageState(state)
    row = _row(db, pk)
    assert (row.state, row.last_error, row.next_attempt_at) == (
        state,
        "451 myöhemmin",
        None if wait is None else T0 + wait,
    )
    assert _events(db, EventKind.message_failed) == [
        {
            "message": pk,
            "error": "451 myöhemmin",
            "attempt": attempts,
            "final": state == "failed",
            "maybe_delivered": False,
        }
    ]


def test_five_claims_and_failures_end_in_failed(db: Settings, clock: Clock) -> None:
    """Driving claim → transient failure repeatedly: queued four times with growing backoff, then failed."""
    pk, _ = _queue(db)
    seen = []
    for _ in range(6):
        if not _claim(db, pk, respect_backoff=True):
            break
        state = _fail(db, pk)
        row = _row(db, pk)
        seen.append((state.value, row.attempts, row.next_attempt_at and row.next_attempt_at - clock.at))
        clock.at = row.next_attempt_at or clock.at
    assert seen == [
        ("queued", 1, timedelta(minutes=10)),
        ("queued", 2, timedelta(minutes=20)),
        ("queued", 3, timedelta(minutes=40)),
        ("queued", 4, timedelta(minutes=80)),
        ("failed", 5, None),
    ]


@pytest.mark.parametrize(
    ("attempts", "wait"),
    [
        (0, timedelta(minutes=10)),
        (1, timedelta(minutes=10)),
        (2, timedelta(minutes=20)),
        (3, timedelta(minutes=40)),
        (6, timedelta(minutes=320)),
        (7, timedelta(minutes=640)),
        (8, timedelta(hours=12)),
        (30, timedelta(hours=12)),
    ],
    ids=["0", "1", "2", "3", "6", "7-last-below-cap", "8-capped", "30-capped"],
)
def test_backoff_doubles_from_ten_minutes_up_to_twelve_hours(attempts: int, wait: timedelta) -> None:
    """`retry_after(n)` is 10 min · 2^(n-1) (10 min for n ≤ 1), never more than 12 h."""
    assert retry_after(attempts) == wait


def test_a_refusal_that_may_have_reached_someone_says_so(db: Settings, clock: Clock) -> None:
    """With `maybe_delivered` the stored error carries the warning and the event records the flag."""
    pk, _ = _queue(db)
    _set(db, pk, state="sending", attempts=1, claimed_at=T0)
    assert _fail(db, pk, permanent=True, maybe_delivered=True, error="550 b@x") == MessageState.failed
    warned = "550 b@x (viesti saattoi mennä osalle vastaanottajista)"
    assert _row(db, pk).last_error == warned
    assert _events(db, EventKind.message_failed) == [
        {"message": pk, "error": warned, "attempt": 1, "final": True, "maybe_delivered": True}
    ]


def test_long_errors_are_cut_to_2000_in_the_row_and_500_in_the_event(db: Settings, clock: Clock) -> None:
    """A long server answer is kept to 2000 characters on the message and 500 in its event."""
    pk, _ = _queue(db)
    _set(db, pk, state="sending", attempts=1, claimed_at=T0)
    _fail(db, pk, error="x" * 3000)
    assert len(_row(db, pk).last_error) == 2000
    assert len(_events(db, EventKind.message_failed)[0]["error"]) == 500


# --- partial delivery and re-queueing ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("failures", "expected"),
    [
        ([], False),
        ([False], True),
        ([False, False, False], True),
        ([True], False),
        ([False, True], False),
        ([True, False], False),
    ],
    ids=["never-tried", "one-refusal", "three-refusals", "maybe", "refusal-then-maybe", "maybe-then-refusal"],
)
def test_never_delivered_only_when_every_failure_was_a_refusal(
    db: Settings, clock: Clock, failures: list[bool], expected: bool
) -> None:
    """A message counts as never delivered only if it failed at least once and no failure may have reached anyone."""
    pk, _ = _queue(db)
    for maybe in failures:
        _set(db, pk, state="sending", attempts=1)
        _fail(db, pk, permanent=True, maybe_delivered=maybe)
    with _session(db) as session:
        assert never_delivered(session=session, message=session.get_one(Message, pk)) is expected


def test_never_delivered_looks_only_at_the_message_own_failures(db: Settings, clock: Clock) -> None:
    """Failures of the body's other messages (another kind, round or proposal) do not count for this one."""
    mine, _ = _queue(db, "forssa")
    _set(db, mine, state="sending", attempts=1)
    _fail(db, mine, permanent=True)
    for kind, round_, proposal in [
        (MessageKind.reminder, 1, None),
        (MessageKind.proposal, 1, None),
        (MessageKind.proposal, 0, OTHER_PROPOSAL),
    ]:
        other, _ = _queue(db, "forssa", kind, round_, proposal_id=proposal)
        _set(db, other, state="sending", attempts=1)
        _fail(db, other, permanent=True, maybe_delivered=True)
    untried, _ = _queue(db, "forssa", MessageKind.confirmation, 0)
    with _session(db) as session:
        assert never_delivered(session=session, message=session.get_one(Message, mine)) is True
        assert never_delivered(session=session, message=session.get_one(Message, untried)) is False


def _failed_for_good(settings: Settings, *, error: str | None = "550 ei tunnettu") -> int:
    pk, _ = _queue(settings)
    for _ in range(5):
        _set(settings, pk, state="sending")
        _set(settings, pk, attempts=Message.attempts + 1)
        _fail(settings, pk, error="451 myöhemmin")
    _set(settings, pk, last_error=error, next_attempt_at=T0, claimed_at=T0)
    return pk


def test_requeue_resets_a_failed_message_as_new(db: Settings, clock: Clock) -> None:
    """A failed message re-queued gets the new mail, a new Message-ID, zero attempts and no error or backoff."""
    pk = _failed_for_good(db)
    before = _row(db, pk)
    assert (before.state, before.attempts) == ("failed", 5)
    assert _requeue(db, before) is True
    row = _row(db, pk)
    assert (row.state, row.attempts, row.last_error, row.next_attempt_at, row.claimed_at) == (
        "queued",
        0,
        None,
        None,
        None,
    )
    assert (row.recipients, row.logical_date) == (["korjattu@forssa.example"], date(2026, 3, 9))
    assert row.message_id != before.message_id and row.message_id.encode() in row.wire
    assert b"korjattu@forssa.example" in row.wire
    assert _events(db, EventKind.message_queued)[-1] == {
        "message": pk,
        "kind": "proposal",
        "round": 0,
        "message_id": row.message_id,
        "recipients": ["korjattu@forssa.example"],
        "cc": [],
        "requeued": {"previous_message_id": before.message_id, "previous_error": "550 ei tunnettu"},
    }


def test_a_requeued_message_gets_five_fresh_attempts(db: Settings, clock: Clock) -> None:
    """After a re-queue the attempt count starts from zero: the next failure is attempt 1, queued again."""
    pk = _failed_for_good(db)
    assert _requeue(db, _row(db, pk)) is True
    assert _claim(db, pk) is True
    assert _fail(db, pk) == MessageState.queued
    row = _row(db, pk)
    assert (row.attempts, row.next_attempt_at) == (1, T0 + timedelta(minutes=10))


def test_requeue_event_keeps_the_first_500_characters_of_the_old_error(db: Settings, clock: Clock) -> None:
    """The re-queue event keeps the previous error cut to 500 characters, or an empty string when none."""
    long_error = _failed_for_good(db, error="e" * 900)
    no_error = _queue(db, "humppila")[0]
    _set(db, no_error, state="failed", last_error=None)
    assert _requeue(db, _row(db, long_error)) is True
    assert _requeue(db, _row(db, no_error), _mail("humppila")) is True
    previous = [e["requeued"]["previous_error"] for e in _events(db, EventKind.message_queued)[-2:]]
    assert previous == ["e" * 500, ""]


@pytest.mark.parametrize("state", ["queued", "sending", "sent"], ids=["queued", "sending", "sent"])
def test_requeue_touches_only_failed_messages(db: Settings, clock: Clock, state: str) -> None:
    """Re-queueing a message that is not failed returns False and leaves it (and the event log) as it was."""
    pk, _ = _queue(db)
    _set(db, pk, state=state, attempts=2, last_error="x")
    before = _row(db, pk)
    queued_events = len(_events(db, EventKind.message_queued))
    assert _requeue(db, before) is False
    row = _row(db, pk)
    assert (row.state, row.attempts, row.message_id, row.recipients, row.last_error) == (
        state,
        2,
        before.message_id,
        ["kirjaamo@forssa.example"],
        "x",
    )
    assert len(_events(db, EventKind.message_queued)) == queued_events


def test_a_stale_failed_snapshot_cannot_requeue_a_message_already_sent(db: Settings, clock: Clock) -> None:
    """Two coordinators read the failed message; after the first re-queued and delivered it, the second gets False."""
    pk = _failed_for_good(db)
    first, second = _row(db, pk), _row(db, pk)
    assert _requeue(db, first) is True
    assert _claim(db, pk) is True
    _deliver(db, pk)
    assert _requeue(db, second) is False
    assert _row(db, pk).state == "sent"


def test_two_coordinators_requeueing_at_once_requeue_once(db: Settings, clock: Clock) -> None:
    """Two sessions re-queueing the same failed message concurrently: exactly one succeeds, one event."""
    pk = _failed_for_good(db)
    events_before = len(_events(db, EventKind.message_queued))

    def requeue() -> bool:
        with _session(db) as session, session.begin():
            message = session.get_one(Message, pk)
            return requeue_failed(
                session=session,
                settings=db,
                message=message,
                mail=_mail("forssa", ["korjattu@forssa.example"]),
                actor="test",
            )

    assert sorted(_at_once(requeue, requeue)) == [False, True]
    assert len(_events(db, EventKind.message_queued)) == events_before + 1
    assert (_row(db, pk).state, _row(db, pk).attempts) == ("queued", 0)


def _at_once(*calls: Callable[[], bool]) -> list[bool]:
    """Run the calls in threads released together; their results in call order."""
    barrier = threading.Barrier(len(calls))
    results: list[bool | BaseException] = [False] * len(calls)

    def run(i: int, call: Callable[[], bool]) -> None:
        barrier.wait()
        try:
            results[i] = call()
        except BaseException as exc:  # noqa: BLE001 - re-raised below in the test's thread
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    for r in results:
        if isinstance(r, BaseException):
            raise r
    return results  # type: ignore[return-value]


# --- lookup ----------------------------------------------------------------------------------------


def test_find_messages_matches_proposal_kind_round_and_bodies(db: Settings) -> None:
    """The lookup returns, per body, only the row of the asked proposal, kind and round."""
    p = {b: _queue(db, b)[0] for b in ("forssa", "humppila", "jokioinen")}
    other_p = {b: _queue(db, b, proposal_id=OTHER_PROPOSAL)[0] for b in ("forssa", "tammela")}
    r1 = {b: _queue(db, b, MessageKind.reminder, 1)[0] for b in ("forssa", "humppila")}
    r2 = {b: _queue(db, b, MessageKind.reminder, 2)[0] for b in ("forssa",)}

    def find(
        proposal: str, kind: MessageKind, bodies: list[str], round_: int | None = None
    ) -> dict[str, int]:
        with _session(db) as session:
            kwargs = {} if round_ is None else {"round_": round_}
            found = find_messages(session=session, proposal_id=proposal, kind=kind, body_ids=bodies, **kwargs)
            return {body: m.id for body, m in found.items()}

    first = db.proposal_id
    assert find(first, MessageKind.proposal, ["forssa", "humppila", "tammela"]) == {
        "forssa": p["forssa"],
        "humppila": p["humppila"],
    }
    assert find(OTHER_PROPOSAL, MessageKind.proposal, ["forssa", "humppila", "tammela"]) == {
        "forssa": other_p["forssa"],
        "tammela": other_p["tammela"],
    }
    assert find(first, MessageKind.reminder, ["forssa", "humppila"], 1) == r1
    assert find(first, MessageKind.reminder, ["forssa", "humppila"], 2) == r2
    assert find(first, MessageKind.reminder, ["forssa", "humppila"]) == {}
    assert find(first, MessageKind.digest, ["forssa"]) == {}
    assert find(first, MessageKind.proposal, []) == {}


def test_every_outbox_event_names_its_actor_proposal_and_body(db: Settings, clock: Clock) -> None:
    """Queue, failure, re-queue and delivery events carry the actor, the message's proposal and its body."""
    pk, _ = _queue(db, "tammela", proposal_id=OTHER_PROPOSAL)
    _claim(db, pk)
    _fail(db, pk, permanent=True)
    _requeue(db, _row(db, pk), _mail("tammela"))
    _claim(db, pk)
    _deliver(db, pk)
    with _session(db) as session:
        rows = session.execute(
            select(Event.kind, Event.actor, Event.proposal_id, Event.body_id)
            .where(Event.kind.like("message_%"))
            .order_by(Event.id)
        ).all()
    assert [tuple(r) for r in rows] == [
        ("message_queued", "test", OTHER_PROPOSAL, "tammela"),
        ("message_failed", "test", OTHER_PROPOSAL, "tammela"),
        ("message_queued", "test", OTHER_PROPOSAL, "tammela"),
        ("message_sent", "test", OTHER_PROPOSAL, "tammela"),
    ]


def test_attachments_are_stored_relative_to_outputs_and_sent_inside_the_bytes(db: Settings) -> None:
    """An attachment under outputs/ is stored by its relative path and its content is in the composed message."""
    folder = db.outputs / "jarjestoyhteistyomalli-forssan-seutu" / "forssa"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "Esitys.txt").write_text("liitteen sisältö", encoding="utf-8")
    mail = _mail("forssa")
    mail.attachments = [folder / "Esitys.txt"]
    pk, _ = _queue(db, mail=mail)
    row = _row(db, pk)
    assert row.attachments == ["jarjestoyhteistyomalli-forssan-seutu/forssa/Esitys.txt"]
    assert b'filename="Esitys.txt"' in row.wire


# --- queueing precomputed content -----------------------------------------------------------------


def test_queue_and_requeue_store_the_precomputed_content_as_given(db: Settings, clock: Clock) -> None:
    """With `content=`, queue and re-queue store exactly its Message-ID, wire and recipients."""
    content = outbox_content(db, _mail("forssa", ["ennalta@forssa.example"]))
    pk, created = _queue(db, mail=_mail("forssa", ["toinen@forssa.example"]), content=content)
    row = _row(db, pk)
    assert created is True
    assert (row.message_id, row.wire, row.recipients) == (
        content["message_id"],
        content["wire"],
        ["ennalta@forssa.example"],
    )
    _set(db, pk, state="failed")
    again = outbox_content(db, _mail("forssa", ["korjattu@forssa.example"]))
    assert _requeue(db, _row(db, pk), _mail("forssa", ["toinen@forssa.example"]), content=again)
    row = _row(db, pk)
    assert (row.message_id, row.wire, row.recipients) == (
        again["message_id"],
        again["wire"],
        ["korjattu@forssa.example"],
    )


# --- combined emails (one email carrying several proposals' rounds) ---------------------------------

REMINDER_DAY = date(2026, 2, 23)


def _combine(
    settings: Settings,
    carrier: tuple[str, int],
    carried: list[tuple[str, int, RenderedMail]],
    mail: RenderedMail | None = None,
    **kinds: MessageKind,
) -> tuple[int, bool]:
    """`queue_combined` in its own transaction; `kinds` (kind=, carried_kind=) only when given."""
    with _session(settings) as session, session.begin():
        return queue_combined(
            session=session,
            settings=settings,
            carrier=carrier,
            mail=mail or _mail("tammela", ["yhteinen@tammela.example"]),
            carried=carried,
            actor="yhdistäjä",
            logical_date=REMINDER_DAY,
            **kinds,
        )


def _all_rows(settings: Settings) -> list[tuple]:
    with _session(settings) as session:
        return [
            (m.id, m.proposal_id, m.body_id, m.kind, m.round, m.state, m.carried_by, m.logical_date)
            for m in session.scalars(select(Message).order_by(Message.id))
        ]


def _event_rows(settings: Settings, kind: EventKind) -> list[tuple]:
    with _session(settings) as session:
        rows = session.execute(
            select(Event.actor, Event.proposal_id, Event.body_id, Event.data)
            .where(Event.kind == kind.value)
            .order_by(Event.id)
        ).all()
    return [tuple(r) for r in rows]


def _combined_reminder(settings: Settings) -> tuple[int, int, int, int]:
    """An unrelated queued message, then a combined reminder (round 3) carrying the seed proposal's
    round 3 and the other proposal's round 1 for tammela; (unrelated, carrier, carried 1, carried 2)."""
    unrelated, _ = _queue(settings, "tammela", MessageKind.reminder, 2)
    carrier, created = _combine(
        settings,
        (settings.proposal_id, 3),
        [
            (settings.proposal_id, 3, _mail("tammela", ["oma@tammela.example"])),
            (OTHER_PROPOSAL, 1, _mail("tammela", ["toisen@tammela.example"])),
        ],
    )
    assert created is True
    first, second = carrier + 1, carrier + 2
    return unrelated, carrier, first, second


def test_queue_combined_queues_the_carrier_and_carried_rounds_once(db: Settings, clock: Clock) -> None:
    """A queued combined reminder, each carried round its own proposal's `carried` reminder; a rerun adds nothing."""
    unrelated, carrier, first, second = _combined_reminder(db)
    pid = db.proposal_id
    assert _all_rows(db)[-4:] == [
        (unrelated, pid, "tammela", "reminder", 2, "queued", None, date(2026, 3, 2)),
        (carrier, pid, "tammela", "combined_reminder", 3, "queued", None, REMINDER_DAY),
        (first, pid, "tammela", "reminder", 3, "carried", carrier, REMINDER_DAY),
        (second, OTHER_PROPOSAL, "tammela", "reminder", 1, "carried", carrier, REMINDER_DAY),
    ]
    rows = {pk: _row(db, pk) for pk in (carrier, first, second)}
    assert [rows[pk].recipients for pk in (carrier, first, second)] == [
        ["yhteinen@tammela.example"],
        ["oma@tammela.example"],
        ["toisen@tammela.example"],
    ]
    assert len({r.message_id for r in rows.values()}) == 3
    queued = _event_rows(db, EventKind.message_queued)[-3:]
    assert [
        (actor, proposal, body, data["message"], data["kind"], data["round"])
        for actor, proposal, body, data in queued
    ] == [
        ("yhdistäjä", pid, "tammela", carrier, "combined_reminder", 3),
        ("yhdistäjä", pid, "tammela", first, "reminder", 3),
        ("yhdistäjä", OTHER_PROPOSAL, "tammela", second, "reminder", 1),
    ]
    # The same carrier key again: its id, not created, and no new row or event even for a new round.
    rows, events = _all_rows(db), _events(db, EventKind.message_queued)
    again = _combine(db, (db.proposal_id, 3), [(OTHER_PROPOSAL, 2, _mail("tammela"))])
    assert again == (carrier, False)
    assert (_all_rows(db), _events(db, EventKind.message_queued)) == (rows, events)


@pytest.mark.parametrize(
    ("body_id", "kinds", "message"),
    [
        (
            "tammela",
            {},
            "esityksen toinen-esitys viesti (kierros 1) vastaanottajalle tammela on jo jonossa toisen "
            "ajon tekemänä; yhdistettyä viestiä ei tehty",
        ),
        (
            None,
            {"kind": MessageKind.digest, "carried_kind": MessageKind.digest},
            "esityksen toinen-esitys viesti (kierros 1) vastaanottajalle valiokunta on jo jonossa toisen "
            "ajon tekemänä; yhdistettyä viestiä ei tehty",
        ),
    ],
    ids=["reminder", "committee-digest"],
)
def test_a_carried_round_queued_alone_already_rolls_the_combined_email_back(
    db: Settings, clock: Clock, body_id: str | None, kinds: dict, message: str
) -> None:
    """A carried round already queued alone raises AlreadyQueuedError naming it; nothing combined is left."""
    carried_kind = kinds.get("carried_kind", MessageKind.reminder)
    alone, _ = _queue(
        db, body_id, carried_kind, 1, proposal_id=OTHER_PROPOSAL, mail=_mail(body_id, ["a@b.example"])
    )
    rows = _all_rows(db)
    with pytest.raises(AlreadyQueuedError) as raised:
        _combine(
            db,
            (db.proposal_id, 1),
            [
                (db.proposal_id, 2, _mail(body_id, ["a@b.example"])),  # queued, then undone
                (OTHER_PROPOSAL, 1, _mail(body_id, ["a@b.example"])),
            ],
            mail=_mail(body_id, ["a@b.example"]),
            **kinds,
        )
    assert str(raised.value) == message
    assert _all_rows(db) == rows
    assert rows[-1][0] == alone and rows[-1][5] == "queued"


def test_queue_combined_as_a_committee_digest_uses_the_given_kinds(db: Settings, clock: Clock) -> None:
    """With kind and carried_kind digest (the weekly digest), carrier and carried round are bodiless digests."""
    committee = _mail(None, ["valiokunta@example.fi"])
    carrier, created = _combine(
        db,
        (db.proposal_id, 10),
        [(OTHER_PROPOSAL, 10, committee)],
        mail=committee,
        kind=MessageKind.digest,
        carried_kind=MessageKind.digest,
    )
    assert created is True
    assert _all_rows(db)[-2:] == [
        (carrier, db.proposal_id, None, "digest", 10, "queued", None, REMINDER_DAY),
        (carrier + 1, OTHER_PROPOSAL, None, "digest", 10, "carried", carrier, REMINDER_DAY),
    ]


def test_carried_rounds_are_only_the_carrier_own_in_id_order(db: Settings, clock: Clock) -> None:
    """`carried_rounds` lists the rows carried by that carrier, by id, not another carrier's nor uncarried rows."""
    _, carrier, first, second = _combined_reminder(db)
    other_carrier, _ = _combine(db, (db.proposal_id, 4), [(OTHER_PROPOSAL, 2, _mail("tammela"))])
    third, _ = _combine(db, (OTHER_PROPOSAL, 5), [(OTHER_PROPOSAL, 4, _mail("tammela"))])
    # Re-pointed (an indexed column changes), PostgreSQL stores and indexes the row after the others.
    _set(db, first, carried_by=None)
    _set(db, first, carried_by=carrier)
    with _session(db) as session:
        assert [m.id for m in carried_rounds(session=session, combined_pk=carrier)] == [first, second]
        assert [m.id for m in carried_rounds(session=session, combined_pk=other_carrier)] == [
            other_carrier + 1
        ]
        assert [m.id for m in carried_rounds(session=session, combined_pk=third)] == [third + 1]
        assert carried_rounds(session=session, combined_pk=first) == []


def test_bodies_mailed_on_a_day_are_those_with_another_proposal_live_message(
    db: Settings, clock: Clock
) -> None:
    """Bodies with a queued, sending or sent message of another proposal that day (not failed or carried)."""
    day = date(2026, 3, 16)
    for body_id, state, proposal, logical_date in [
        ("forssa", "queued", OTHER_PROPOSAL, day),
        ("humppila", "sending", OTHER_PROPOSAL, day),
        ("jokioinen", "sent", OTHER_PROPOSAL, day),
        ("tammela", "failed", OTHER_PROPOSAL, day),
        ("ypaja", "carried", OTHER_PROPOSAL, day),
        ("fshky", "queued", db.proposal_id, day),
        ("tammela", "queued", OTHER_PROPOSAL, day - timedelta(days=1)),
        ("ypaja", "sent", OTHER_PROPOSAL, day + timedelta(days=1)),
        (None, "queued", OTHER_PROPOSAL, day),
    ]:
        kind = MessageKind.digest if body_id is None else MessageKind.reminder
        pk, _ = _queue(
            db,
            body_id,
            kind,
            round_=logical_date.day,
            proposal_id=proposal,
            mail=_mail(body_id, ["a@b.example"]),
        )
        _set(db, pk, state=state, logical_date=logical_date)
    with _session(db) as session:
        assert bodies_mailed_on(session=session, day=day, other_than=db.proposal_id) == {
            "forssa",
            "humppila",
            "jokioinen",
        }


def test_delivering_a_combined_email_marks_each_carried_round_sent(db: Settings, clock: Clock) -> None:
    """The carrier is sent; each carried row gets its sent_at, stays `carried`, and has its own sent event."""
    unrelated, carrier, first, second = _combined_reminder(db)
    assert _claim(db, carrier) is True
    clock.at = T0 + 2 * MINUTE
    assert _deliver(db, carrier) == [first, second]
    rows = {pk: _row(db, pk) for pk in (unrelated, carrier, first, second)}
    assert [(rows[pk].state, rows[pk].sent_at) for pk in (unrelated, carrier, first, second)] == [
        ("queued", None),
        ("sent", T0 + 2 * MINUTE),
        ("carried", T0 + 2 * MINUTE),
        ("carried", T0 + 2 * MINUTE),
    ]
    wire_id = rows[carrier].message_id
    assert wire_id not in {rows[first].message_id, rows[second].message_id}
    sent = {"message_id": wire_id, "recipients": ["yhteinen@tammela.example"]}
    assert _event_rows(db, EventKind.message_sent) == [
        ("test", db.proposal_id, "tammela", {"message": carrier, **sent, "kind": "combined_reminder",
                                             "round": 3}),
        ("test", db.proposal_id, "tammela", {"message": first, **sent, "kind": "reminder", "round": 3,
                                             "carried_by": carrier}),
        ("test", OTHER_PROPOSAL, "tammela", {"message": second, **sent, "kind": "reminder", "round": 1,
                                             "carried_by": carrier}),
    ]  # fmt: skip


def test_a_combined_email_delivered_after_a_failure_leaves_no_error_on_its_rounds(
    db: Settings, clock: Clock
) -> None:
    """A 451 first, then delivery: neither the carrier nor a carried round keeps the old error."""
    _, carrier, first, second = _combined_reminder(db)
    _set(db, carrier, state="sending", attempts=1, claimed_at=T0)
    assert _fail(db, carrier, error="451 myöhemmin") == MessageState.queued
    assert _row(db, first).last_error == "451 myöhemmin"
    _set(db, carrier, state="sending", attempts=2, claimed_at=T0)
    _deliver(db, carrier)
    assert [_row(db, pk).last_error for pk in (carrier, first, second)] == [None, None, None]


def test_a_failed_combined_email_fails_each_carried_round_with_it(db: Settings, clock: Clock) -> None:
    """The carried rows get the carrier's error and stay `carried`, each with its own failed event."""
    unrelated, carrier, first, second = _combined_reminder(db)
    _set(db, carrier, state="sending", attempts=2, claimed_at=T0)
    assert _fail(db, carrier, maybe_delivered=True, error="451 myöhemmin") == MessageState.queued
    warned = "451 myöhemmin (viesti saattoi mennä osalle vastaanottajista)"
    rows = {pk: _row(db, pk) for pk in (unrelated, carrier, first, second)}
    assert [(rows[pk].state, rows[pk].last_error) for pk in (unrelated, carrier, first, second)] == [
        ("queued", None),
        ("queued", warned),
        ("carried", warned),
        ("carried", warned),
    ]
    failed = {"error": warned, "attempt": 2, "final": False, "maybe_delivered": True}
    assert _event_rows(db, EventKind.message_failed) == [
        ("test", db.proposal_id, "tammela", {"message": carrier, **failed}),
        ("test", db.proposal_id, "tammela", {"message": first, **failed, "carried_by": carrier}),
        ("test", OTHER_PROPOSAL, "tammela", {"message": second, **failed, "carried_by": carrier}),
    ]


def test_a_message_of_a_kind_that_carries_nothing_never_marks_other_rows(db: Settings, clock: Clock) -> None:
    """A proposal message whose id a row names in carried_by gets one sent and one failed event, its own."""
    pk, _ = _queue(db, "forssa")
    stray, _ = _queue(db, "forssa", MessageKind.reminder, 1, proposal_id=OTHER_PROPOSAL)
    _set(db, stray, state="carried", carried_by=pk)
    _set(db, pk, state="sending", attempts=1, claimed_at=T0)
    _fail(db, pk, error="451 myöhemmin")
    _claim(db, pk)
    _deliver(db, pk)
    assert [data["message"] for data in _events(db, EventKind.message_failed)] == [pk]
    assert [data["message"] for data in _events(db, EventKind.message_sent)] == [pk]
    row = _row(db, stray)
    assert (row.state, row.sent_at, row.last_error) == ("carried", None, None)
