"""Delivering in a process of its own while the next batch renders (send-proposal, large sends).

Rendering and delivery are both Python: in one process they take turns on the interpreter lock,
so a send costs the sum of their CPU time. Here delivery runs in one child process (one SMTP
session at a time, as before) and rendering keeps the flow's process, each on a core of its own.

The child is forked from a ``forkserver`` that has the service imported (preloaded when the
send starts, beside its first batch), not from the flow's process, whose Prefect threads a fork
would copy mid-work. Nothing about each email's exactly-once changes: the child runs the same
:func:`deliver_messages`, which claims each message before it goes on the wire and marks it sent
right after, each in its own transaction (RELIABILITY.md, guarantee 1).
"""

from __future__ import annotations

import multiprocessing
import threading
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from council.config import Settings
from council.delivery.mail import SmtpMailer
from council.services.send import deliver_messages
from models.results import DeliveryReport

#: Sends with at least this many batches deliver in a process of their own (COUNCIL_DELIVERY_PROCESS
#: decides otherwise): starting the process costs about a second of CPU, a small send is over by then.
MIN_BATCHES = 3
#: Batches handed to the process at once (queued there, sent one after another): rendering goes on
#: while the process starts and catches up; more would only hold more composed batches in memory.
IN_FLIGHT = 3


def wanted(settings: Settings, bodies: int) -> bool:
    if settings.delivery_process is not None:
        return settings.delivery_process
    return bodies >= MIN_BATCHES * settings.batch_size


def _ready() -> bool:
    return True


def _deliver(settings: Settings, message_ids: list[int], actor: str) -> DeliveryReport:
    return deliver_messages(settings, message_ids, SmtpMailer(settings), actor=actor)


class DeliveryProcess:
    """One child process that delivers batches, one at a time; started at once, so it is ready by
    the time the first batch has rendered."""

    def __init__(self) -> None:
        # Starting the forkserver waits for it to import the service (seconds): in a thread of its
        # own, so the send goes on storing and rendering meanwhile.
        self._pool: ProcessPoolExecutor | None = None
        self._replacing = threading.Lock()
        self._starting = threading.Thread(target=self._start_in_background, daemon=True)
        self._starting.start()

    def _start_in_background(self) -> None:
        self._pool = self._start()

    def _ready_pool(self) -> ProcessPoolExecutor:
        self._starting.join()
        if self._pool is None:  # the start failed in its thread: try once more here, raising its error
            self._pool = self._start()
        return self._pool

    @staticmethod
    def _start() -> ProcessPoolExecutor:
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["council.services.delivery_process"])
        pool = ProcessPoolExecutor(max_workers=1, mp_context=context)
        pool.submit(_ready)
        return pool

    def deliver(self, settings: Settings, message_ids: list[int], *, actor: str) -> DeliveryReport:
        """Deliver in the child and wait. A child that died (killed, out of memory) raises
        ``BrokenProcessPool`` and a new child takes the next call (the task's retry): the message it
        had claimed waits for the sending lease, as after any crash."""
        pool = self._ready_pool()
        try:
            return pool.submit(_deliver, settings, message_ids, actor).result()
        except BrokenProcessPool:
            with self._replacing:  # every delivery queued in the dead child fails alike: replace it once
                if self._pool is pool:
                    pool.shutdown(wait=False, cancel_futures=True)
                    self._pool = self._start()
            raise

    def close(self) -> None:
        self._starting.join()
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
