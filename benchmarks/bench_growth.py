"""growth: follow-up selection, the dashboard and the digest at 1,000 and 10,000 bodies (SQLite).

Synthetic rows go in with SQLAlchemy Core bulk inserts; every SQL statement the two operations
send is counted with a ``before_cursor_execute`` listener.
"""

from __future__ import annotations

import gc
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, event, insert
from sqlalchemy.orm import Session

from benchmarks.common import Ratio, Section, interleaved
from council.config import PROJECT_ROOT
from council.content.loading import load_proposal
from council.dashboard.build import build_dashboard
from council.rules.reminders import due_reminder
from council.services.digest import changes_since
from council.store.engine import dispose_engines, make_engine, upgrade
from council.store.matrix import read_states
from models.enums import DecisionStatus, EventKind, MessageKind, MessageState
from models.schemas import ProposalIn
from models.tables import Body, Decision, Event, Message, Point, Proposal

TODAY = date(2025, 3, 12)  # a Wednesday, no holiday: reminders can be due
STATUS_CYCLE = (
    DecisionStatus.sent,
    DecisionStatus.sent,
    DecisionStatus.sent,
    DecisionStatus.reminded,
    DecisionStatus.reminded,
    DecisionStatus.on_agenda,
    DecisionStatus.decided,
    DecisionStatus.decided,
    DecisionStatus.decided,
    DecisionStatus.sent,
)


def fill(engine: Engine, proposal: ProposalIn, bodies: int) -> float:
    """Insert one proposal, its points, ``bodies`` bodies with 4 cells, a sent message and 3 events each."""
    start = time.perf_counter()
    now = datetime.now(UTC)
    ids = [f"kunta-{i:05d}" for i in range(1, bodies + 1)]
    with engine.begin() as conn:
        conn.execute(
            insert(Proposal.__table__),
            [
                {
                    "id": proposal.id,
                    "title": proposal.title,
                    "sender": proposal.sender,
                    "preparer": proposal.preparer,
                    "content_sha256": "0" * 64,
                    "created_at": now,
                }
            ],
        )
        conn.execute(
            insert(Point.__table__),
            [
                {
                    "proposal_id": proposal.id,
                    "number": p.number,
                    "title": p.title,
                    "short_title": p.short_title,
                }
                for p in proposal.points
            ],
        )
        conn.execute(
            insert(Body.__table__),
            [
                {
                    "id": body_id,
                    "name": f"Kunta {i:05d}",
                    "name_genitive": f"Kunta {i:05d}:n",
                    "name_inessive": f"Kunta {i:05d}:ssä",
                    "kind": "kunta",
                    "deciding_body": f"Kunta {i:05d}:n kunnanhallitus",
                    "registry_email": f"kirjaamo@{body_id}.example",
                    "language": "fi",
                    "updated_at": now,
                }
                for i, body_id in enumerate(ids, start=1)
            ],
        )
        decisions = []
        for i, body_id in enumerate(ids):
            for p in proposal.points:
                status = STATUS_CYCLE[(i + p.number) % len(STATUS_CYCLE)]
                meeting = None
                if status in (DecisionStatus.on_agenda, DecisionStatus.decided):
                    meeting = TODAY + timedelta(days=(i % 40) - 20)
                decisions.append(
                    {
                        "proposal_id": proposal.id,
                        "body_id": body_id,
                        "point_number": p.number,
                        "status": status.value,
                        "outcome": "hyväksytty ehdotuksen mukaisesti"
                        if status == DecisionStatus.decided
                        else None,
                        "meeting_date": meeting,
                        "section": (i % 300) + 1 if meeting else None,
                        "updated_at": now,
                        "version": 1,
                    }
                )
        conn.execute(insert(Decision.__table__), decisions)
        messages = []
        events = []
        for i, body_id in enumerate(ids):
            sent_day = TODAY - timedelta(days=20 + i % 80)
            sent_at = datetime(sent_day.year, sent_day.month, sent_day.day, 9, 0, tzinfo=UTC)
            messages.append(
                {
                    "proposal_id": proposal.id,
                    "body_id": body_id,
                    "kind": MessageKind.proposal.value,
                    "round": 0,
                    "state": MessageState.sent.value,
                    "message_id": f"<bench-{body_id}@forssanseutu.example>",
                    "recipients": [f"kirjaamo@{body_id}.example"],
                    "subject": proposal.short_title,
                    "body_text": "",
                    "body_html": "",
                    "attachments": [],
                    "attempts": 1,
                    "logical_date": sent_day,
                    "cc": [],
                    "created_at": sent_at,
                    "claimed_at": sent_at,
                    "sent_at": sent_at,
                }
            )
            for k, kind in enumerate(
                (EventKind.message_queued, EventKind.message_sent, EventKind.status_changed)
            ):
                events.append(
                    {
                        "occurred_at": sent_at + timedelta(minutes=k),
                        "proposal_id": proposal.id,
                        "body_id": body_id,
                        "point_number": 1 if kind == EventKind.status_changed else None,
                        "kind": kind.value,
                        "actor": "bench",
                        "data": {"message": i + 1, "kind": MessageKind.proposal.value}
                        if kind != EventKind.status_changed
                        else {"from": "not_sent", "to": "sent"},
                    }
                )
        # Each decided cell was recorded during the week the digest covers (the digest reads these).
        recorded_at = datetime(TODAY.year, TODAY.month, TODAY.day, 8, 0, tzinfo=UTC) - timedelta(days=2)
        events += [
            {
                "occurred_at": recorded_at,
                "proposal_id": proposal.id,
                "body_id": d["body_id"],
                "point_number": d["point_number"],
                "kind": EventKind.decision_recorded.value,
                "actor": "bench",
                "data": {
                    "new": {
                        "outcome": d["outcome"],
                        "meeting_date": d["meeting_date"].isoformat(),
                        "section": d["section"],
                    }
                },
            }
            for d in decisions
            if d["outcome"] is not None
        ]
        conn.execute(insert(Message.__table__), messages)
        conn.execute(insert(Event.__table__), events)
    return time.perf_counter() - start


class GcTimer:
    """Time spent in garbage collection (gc.callbacks) and full collections, per labelled activity."""

    def __init__(self) -> None:
        self.current: str | None = None
        self.seconds: dict[str, float] = {}
        self.full: dict[str, int] = {}
        self._start = 0.0

    def __enter__(self) -> GcTimer:
        gc.callbacks.append(self._callback)
        return self

    def __exit__(self, *exc: object) -> None:
        gc.callbacks.remove(self._callback)

    def _callback(self, phase: str, info: dict) -> None:
        if self.current is None:
            return
        if phase == "start":
            self._start = time.perf_counter()
        else:
            self.seconds[self.current] = (
                self.seconds.get(self.current, 0.0) + time.perf_counter() - self._start
            )
            self.full[self.current] = self.full.get(self.current, 0) + (info.get("generation") == 2)

    def labelled(self, label: str, fn: Callable[[], object]) -> Callable[[], None]:
        def run() -> None:
            self.current = label
            try:
                fn()
            finally:
                self.current = None

        return run


class StatementCounter:
    def __init__(self, engine: Engine):
        self.count = 0
        event.listen(engine, "before_cursor_execute", self._count)

    def _count(self, *_: object) -> None:
        self.count += 1

    def around(self, fn: Callable[[], object]) -> int:
        before = self.count
        fn()
        return self.count - before


class Database:
    """One synthetic database of ``n`` bodies and the two operations measured on it."""

    def __init__(self, url: str, n: int, proposal: ProposalIn):
        self.n = n
        self.proposal = proposal
        upgrade(url)
        self.engine = make_engine(url)
        self.fill_seconds = fill(self.engine, proposal, n)
        self.counter = StatementCounter(self.engine)
        self.due = 0

    def follow_up(self) -> None:
        policy = self.proposal.reminder_policy
        with Session(self.engine) as session:
            states = read_states(session=session, proposal_id=self.proposal.id)
        self.due = sum(1 for s in states.values() if due_reminder(s, policy, TODAY) is not None)

    def digest(self) -> None:
        """The weekly digest's changes over the whole history (every body's sending and decisions)."""
        with Session(self.engine) as session:
            lines = changes_since(
                session=session,
                proposal_id=self.proposal.id,
                since=datetime(2000, 1, 1, tzinfo=UTC),
                until=datetime(TODAY.year, TODAY.month, TODAY.day, tzinfo=UTC) + timedelta(days=1),
            )
        assert len(lines) >= self.n

    def dashboard(self) -> None:
        with Session(self.engine) as session:
            board = build_dashboard(
                session=session,
                proposal_id=self.proposal.id,
                today=TODAY,
                policy=self.proposal.reminder_policy,
            )
        assert len(board.bodies) == self.n


def _repeat(fn: Callable[[], object], times: int) -> Callable[[], None]:
    def run() -> None:
        for _ in range(times):
            fn()

    return run


def run(*, sizes: tuple[int, int] = (1_000, 10_000), repeats: int = 5) -> Section:
    small, large = sizes
    factor = large // small
    section = Section(
        "growth", f"follow-up selection, dashboard and digest at {small:,} and {large:,} bodies (SQLite)"
    )
    section.notes.append(
        f"each timed sample of the {small:,}-body database runs the operation {factor} times, so samples of "
        "both sizes last about as long and meet the same background load; medians of the samples, per call"
    )
    proposal = load_proposal(PROJECT_ROOT / "data/proposals/jarjestoyhteistyomalli-forssan-seutu.yaml")
    results: dict[str, dict[int, float]] = {}
    with tempfile.TemporaryDirectory(prefix="council-bench-growth-") as tmp:
        dbs = {n: Database(f"sqlite:///{Path(tmp) / f'growth-{n}.db'}", n, proposal) for n in sizes}
        statements = {}
        for n, db in dbs.items():
            db.follow_up()  # warm-up: connections, statement caches
            db.dashboard()
            statements[("follow_up", n)] = db.counter.around(db.follow_up)
            statements[("dashboard", n)] = db.counter.around(db.dashboard)
            db.digest()
            statements[("digest", n)] = db.counter.around(db.digest)
        with GcTimer() as gc_timer:
            for op in ("follow_up", "dashboard", "digest"):
                fns = {
                    f"{op}:{n}": gc_timer.labelled(
                        f"{op}:{n}", _repeat(getattr(db, op), factor if n == small else 1)
                    )
                    for n, db in dbs.items()
                }
                cpu: dict[str, list[float]] = {}
                times = interleaved(fns, repeats, cpu)
                for n in sizes:
                    calls = factor if n == small else 1
                    key = f"{op}:{n}"
                    results.setdefault(op, {})[n] = statistics.median(times[key]) / calls
                    results.setdefault(f"{op}_cpu", {})[n] = statistics.median(cpu[key]) / calls
                    results.setdefault(f"{op}_gc", {})[n] = gc_timer.seconds.get(key, 0.0) / (repeats * calls)
                    results.setdefault(f"{op}_full", {})[n] = gc_timer.full.get(key, 0) / (repeats * calls)
        fills = {n: db.fill_seconds for n, db in dbs.items()}
        due = {n: db.due for n, db in dbs.items()}
        for db in dbs.values():
            db.engine.dispose()
        dispose_engines()
    for n in sizes:
        section.measure(
            f"follow_up_ms_{n}",
            f"follow-up, {n:,} bodies ({due[n]:,} due)",
            results["follow_up"][n] * 1000,
            "ms",
        )
        section.measure(f"dashboard_ms_{n}", f"dashboard, {n:,} bodies", results["dashboard"][n] * 1000, "ms")
        section.measure(f"digest_ms_{n}", f"digest changes, {n:,} bodies", results["digest"][n] * 1000, "ms")
        section.measure(
            f"gc_ms_{n}",
            "  of which garbage collection (follow-up / dashboard)",
            (results["follow_up_gc"][n] + results["dashboard_gc"][n]) * 1000,
            f"ms ({results['follow_up_gc'][n] * 1000:.1f} / {results['dashboard_gc'][n] * 1000:.1f})",
            full_collections_per_call={
                "follow_up": results["follow_up_full"][n],
                "dashboard": results["dashboard_full"][n],
            },
        )
        section.measure(
            f"statements_{n}",
            f"SQL statements at {n:,} bodies (follow-up / dashboard / digest)",
            statements[("follow_up", n)] + statements[("dashboard", n)] + statements[("digest", n)],
            f"({statements[('follow_up', n)]} / {statements[('dashboard', n)]} / {statements[('digest', n)]})",
            follow_up=statements[("follow_up", n)],
            dashboard=statements[("dashboard", n)],
            digest=statements[("digest", n)],
        )
        section.measure(f"fill_s_{n}", f"bulk insert of {n:,} bodies (set-up, not judged)", fills[n], "s")
    for op, label in (("follow_up", "follow-up"), ("dashboard", "dashboard"), ("digest", "digest")):
        section.ratios.append(
            Ratio(
                f"{label} time {factor}x bodies",
                results[op][large] / results[op][small],
                f"<= {factor * 1.1:.0f}",
                "time grows at most linearly (+10 %)",
                results[f"{op}_cpu"][large] / results[f"{op}_cpu"][small],
            )
        )
        section.ratios.append(
            Ratio(
                f"{label} statements {factor}x/1x",
                statements[(op, large)] / statements[(op, small)],
                "== 1",
                "same number of SQL statements",
            )
        )
    return section
