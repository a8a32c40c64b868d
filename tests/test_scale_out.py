"""A send shared by several runs (send-proposal and the send-proposal-part runs it starts on other
workers): batches are claimed from one work list in the database, each email still goes out once,
and a batch a helper leaves behind (its run ended, or its machine went silent) is sent by the run
that shared the send. The helpers here are threads running the same service code the part flow
runs; the benchmark runs them as Prefect process workers."""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

import council.services.send as send_module
from council.config import Settings, get_settings
from council.delivery.mail import SmtpMailer
from council.delivery.smtpd import LocalSmtpServer
from council.services.send import SendSteps, inline_send_steps, send_part, send_proposal
from council.store.batches import claim_batch, plan_batches
from council.store.engine import make_engine, upgrade
from models.enums import EventKind
from models.results import DeliveryReport
from models.tables import Event, SendBatch
from tests.helpers import read_eml


@pytest.fixture
def shared(env: pytest.MonkeyPatch, database_url: str, smtp_server: LocalSmtpServer) -> Settings:
    """Six bodies in six batches of one, on SQLite and PostgreSQL."""
    env.setenv("COUNCIL_DATABASE_URL", database_url)
    env.setenv("COUNCIL_LOCAL_SMTP_PORT", str(smtp_server.port))
    env.setenv("COUNCIL_BATCH_SIZE", "1")
    s = get_settings()
    upgrade(s.effective_database_url)
    return s


class ThreadHelpers:
    """Helpers as threads: each runs ``send_part`` with its own steps and actor."""

    def __init__(self, settings: Settings, campaign: str, count: int, steps_for) -> None:  # noqa: ANN001
        self.threads = [
            threading.Thread(
                target=self._run, args=(settings, campaign, steps_for(i), f"helper-{i}"), daemon=True
            )
            for i in range(count)
        ]
        self.errors: list[BaseException] = []
        for thread in self.threads:
            thread.start()

    def _run(self, settings: Settings, campaign: str, steps: SendSteps, claimer: str) -> None:
        try:
            send_part(settings, campaign, steps, claimer=claimer)
        except BaseException as exc:  # noqa: BLE001 - kept for the test to look at
            self.errors.append(exc)

    def cancel_unstarted(self) -> None:
        pass

    def all_ended(self) -> bool:
        return not any(thread.is_alive() for thread in self.threads)


def _steps(settings: Settings, actor: str, *, before_prepare=None) -> SendSteps:  # noqa: ANN001
    steps = inline_send_steps(settings, SmtpMailer(settings), actor=actor)
    if before_prepare is None:
        return steps

    def prepare(batch: list[str]) -> list[int]:
        before_prepare(batch)
        return steps.prepare(batch)

    return replace(steps, prepare=prepare)


def _shared_steps(
    settings: Settings, helper_steps, *, helpers: int, main_prepare=None
) -> tuple[SendSteps, list]:  # noqa: ANN001
    started: list[ThreadHelpers] = []
    main = _steps(settings, "main", before_prepare=main_prepare)

    def start(campaign: str, count: int) -> ThreadHelpers:
        started.append(ThreadHelpers(settings, campaign, count, helper_steps))
        return started[-1]

    return replace(main, start_helpers=start, helpers=helpers), started


def _mails_per_body(smtp_server: LocalSmtpServer) -> Counter:
    return Counter(str(read_eml(path)["To"]) for path in smtp_server.messages())


def _senders(settings: Settings) -> Counter:
    with Session(make_engine(settings.effective_database_url)) as session:
        return Counter(session.scalars(select(Event.actor).where(Event.kind == EventKind.message_sent.value)))


def _work_list_rows(settings: Settings) -> int:
    with Session(make_engine(settings.effective_database_url)) as session:
        return len(session.scalars(select(SendBatch)).all())


def test_two_claimers_never_take_the_same_batch(shared: Settings) -> None:
    """Four threads claim 60 batches at once: every batch is taken by exactly one of them."""
    engine = make_engine(shared.effective_database_url)
    with Session(engine) as session, session.begin():
        plan_batches(session=session, campaign="c", batches=[[f"b{i}"] for i in range(60)])
    taken: dict[str, list[int]] = {f"t{i}": [] for i in range(4)}

    def take(name: str) -> None:
        with Session(engine) as session:
            while (batch := claim_batch(session=session, campaign="c", claimer=name)) is not None:
                taken[name].append(batch[0])

    threads = [threading.Thread(target=take, args=(name,)) for name in taken]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    positions = [p for got in taken.values() for p in got]
    assert sorted(positions) == list(range(60))  # each batch once, none left out
    with Session(engine) as session:
        owners = dict(session.execute(select(SendBatch.position, SendBatch.claimed_by)).all())
    assert all(owners[p] == name for name, got in taken.items() for p in got)


def test_a_shared_send_sends_each_body_once_and_reports_every_batch(
    shared: Settings, smtp_server: LocalSmtpServer
) -> None:
    """The main run waits until a helper has a batch, so both really share it; every body gets
    one email, the report lists all six, and the work list is gone afterwards."""
    helper_has_one = threading.Event()
    steps, started = _shared_steps(
        shared,
        lambda i: _steps(shared, f"helper-{i}", before_prepare=lambda _: helper_has_one.set()),
        helpers=2,
        main_prepare=lambda _: helper_has_one.wait(60),
    )
    report = send_proposal(shared, [], steps)
    assert not started[0].errors
    assert len(report.sent) == 6 and not report.failed and report.targets == 6
    assert set(_mails_per_body(smtp_server).values()) == {1} and len(smtp_server.messages()) == 6
    senders = _senders(shared)
    assert sum(senders.values()) == 6 and senders["main"] >= 1
    assert any(actor.startswith("helper-") for actor in senders)
    assert _work_list_rows(shared) == 0
    # sending again sends nothing twice
    again = send_proposal(shared, [], _shared_steps(shared, lambda i: _steps(shared, f"h{i}"), helpers=2)[0])
    assert not again.sent and len(smtp_server.messages()) == 6


def test_a_batch_left_by_a_helper_whose_run_ended_is_sent_by_the_main_run(
    shared: Settings, smtp_server: LocalSmtpServer
) -> None:
    """A helper dies after claiming a batch (its run crashes before rendering it): when every helper
    has ended, the main run takes that batch back and sends it; each body still gets one email."""
    helper_died = threading.Event()

    def die(batch: list[str]) -> None:
        helper_died.set()
        raise RuntimeError("työntekijä pysähtyi")

    steps, started = _shared_steps(
        shared,
        lambda i: _steps(shared, f"helper-{i}", before_prepare=die),
        helpers=1,
        main_prepare=lambda _: helper_died.wait(60),
    )
    report = send_proposal(shared, [], steps)
    assert [type(e) for e in started[0].errors] == [RuntimeError]
    assert len(report.sent) == 6 and not report.failed
    assert set(_mails_per_body(smtp_server).values()) == {1} and len(smtp_server.messages()) == 6
    assert _senders(shared) == Counter({"main": 6})
    assert _work_list_rows(shared) == 0


def test_a_batch_held_past_the_lease_by_a_silent_helper_is_sent_once(
    shared: Settings, smtp_server: LocalSmtpServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A helper's machine goes silent holding a batch (its run never ends): after the lease the main
    run sends the batch. When the helper wakes up it renders the batch again, but the outbox has its
    emails as sent, so nothing goes out twice."""
    monkeypatch.setattr(send_module, "SENDING_LEASE", timedelta(seconds=1))
    monkeypatch.setattr(send_module, "HELPER_POLL_SECONDS", 0.1)
    asleep, wake = threading.Event(), threading.Event()

    def sleep_once(batch: list[str]) -> None:
        if not asleep.is_set():
            asleep.set()
            wake.wait(120)

    steps, started = _shared_steps(
        shared,
        lambda i: _steps(shared, f"helper-{i}", before_prepare=sleep_once),
        helpers=1,
        main_prepare=lambda _: asleep.wait(60),
    )
    report = send_proposal(shared, [], steps)
    assert len(report.sent) == 6 and not report.failed
    assert len(smtp_server.messages()) == 6
    wake.set()
    for thread in started[0].threads:
        thread.join(120)
    assert not started[0].errors
    assert set(_mails_per_body(smtp_server).values()) == {1} and len(smtp_server.messages()) == 6
    assert _senders(shared) == Counter({"main": 6})


def test_one_batch_is_not_shared(shared: Settings, smtp_server: LocalSmtpServer, tmp_path: Path) -> None:
    """Helpers are started only when there is more than one batch to share."""
    shared_steps, started = _shared_steps(shared, lambda i: _steps(shared, f"helper-{i}"), helpers=3)
    report = send_proposal(shared, ["forssa"], shared_steps)
    assert report.sent == ["forssa/proposal/0"] and not started


def _pipeline_calls(in_flight: int) -> list[str]:
    """The order in which five batches are rendered, handed to delivery and collected."""
    calls: list[str] = []

    class Delivery:
        def __init__(self, batch: int) -> None:
            self.batch = batch

        def result(self) -> DeliveryReport:
            calls.append(f"collect {self.batch}")
            return DeliveryReport(sent=[str(self.batch)])

    steps = SendSteps(
        sync=list,
        prepare=lambda batch: calls.append(f"render {batch[0]}") or [int(batch[0])],
        deliver=lambda ids: calls.append(f"deliver {ids[0]}") or Delivery(ids[0]),
        publish=lambda: None,
        in_flight=in_flight,
    )
    reports: dict[int, list[str]] = {}
    send_module._pipeline(
        enumerate([[str(i)] for i in range(5)]), steps, lambda p, r: reports.update({p: r.sent})
    )
    assert reports == {i: [str(i)] for i in range(5)}
    return calls


def test_one_delivery_at_a_time_unless_a_delivery_process_queues_them() -> None:
    """In the flow's process one delivery is under way while the next batch renders; handed to a
    delivery process (which sends them one after another) up to three are, so rendering does not
    wait while the process starts."""
    assert _pipeline_calls(1) == [
        "render 0", "deliver 0",
        "render 1", "collect 0", "deliver 1",
        "render 2", "collect 1", "deliver 2",
        "render 3", "collect 2", "deliver 3",
        "render 4", "collect 3", "deliver 4",
        "collect 4",
    ]  # fmt: skip
    assert _pipeline_calls(3) == [
        "render 0", "deliver 0",
        "render 1", "deliver 1",
        "render 2", "deliver 2",
        "render 3", "collect 0", "deliver 3",
        "render 4", "collect 1", "deliver 4",
        "collect 2", "collect 3", "collect 4",
    ]  # fmt: skip


def test_helpers_that_cannot_be_started_leave_the_send_to_the_main_run(
    shared: Settings, smtp_server: LocalSmtpServer
) -> None:
    """Starting the part runs fails (say the part deployment is not registered): the main run sends
    every batch itself and the work list is gone afterwards."""

    def cannot_start(campaign: str, count: int) -> None:
        raise RuntimeError("Deployment 'send-proposal-part/send-proposal-part' not found")

    steps = replace(_steps(shared, "main"), start_helpers=cannot_start, helpers=1)
    report = send_proposal(shared, [], steps)
    assert len(report.sent) == 6 and not report.failed
    assert set(_mails_per_body(smtp_server).values()) == {1} and len(smtp_server.messages()) == 6
    assert _work_list_rows(shared) == 0
