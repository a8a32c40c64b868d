"""Delivering in a process of its own while the next batch renders (send-proposal, large sends).

Rendering and delivery are both Python: in one process they take turns on the interpreter lock,
so a send costs the sum of their CPU time. Here delivery runs in one child process (one SMTP
session at a time, as before) and rendering keeps the flow's process, each on a core of its own.

The child is forked from a process that has the service imported, not from the flow's process,
whose Prefect threads a fork would copy mid-work: under the council worker, from the worker's
fork server (council/forking.py; the child is there at once); otherwise from a ``forkserver`` of
multiprocessing that this process starts beside the first batch (it imports the service: about
three seconds of CPU). Nothing about each email's exactly-once changes: the child runs the same
:func:`deliver_messages`, which claims each message before it goes on the wire and marks it sent
right after, each in its own transaction (RELIABILITY.md, guarantee 1).
"""

from __future__ import annotations

import multiprocessing
import pickle
import socket
import threading
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from multiprocessing.connection import Connection
from typing import Protocol

from council.config import Settings
from council.delivery.mail import SmtpMailer
from council.forking import Forked, ForkError, fork, server_socket
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


class _Child(Protocol):
    def deliver(self, settings: Settings, message_ids: list[int], actor: str) -> DeliveryReport: ...

    def close(self, *, wait: bool) -> None: ...


class _PoolChild:
    """The child of a multiprocessing ``forkserver`` that preloads the service."""

    def __init__(self) -> None:
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["council.services.delivery_process"])
        self.pool = ProcessPoolExecutor(max_workers=1, mp_context=context)
        self.pool.submit(_ready)

    def deliver(self, settings: Settings, message_ids: list[int], actor: str) -> DeliveryReport:
        return self.pool.submit(_deliver, settings, message_ids, actor).result()

    def close(self, *, wait: bool) -> None:
        self.pool.shutdown(wait=wait, cancel_futures=True)


class _ForkedChild:
    """The child of the worker's fork server: calls go over a socket pair, one at a time."""

    def __init__(self, path: str) -> None:
        ours, theirs = socket.socketpair()
        try:
            child = fork(path, call=f"{__name__}:serve", channel=theirs.fileno())
        except ForkError as exc:  # a child that got no channel end of ours ends by itself
            ours.close()
            raise OSError(str(exc)) from exc
        finally:
            theirs.close()
        if child is None:
            ours.close()
            raise OSError(f"no fork server answers at {path}")
        self.child: Forked = child
        self.channel = Connection(ours.detach())
        self.lock = threading.Lock()

    def deliver(self, settings: Settings, message_ids: list[int], actor: str) -> DeliveryReport:
        with self.lock:
            try:
                self.channel.send((settings, message_ids, actor))
                ok, value = self.channel.recv()
            except (EOFError, OSError) as exc:
                raise BrokenProcessPool(f"the delivery process {self.child.pid} ended") from exc
        if not ok:
            raise value
        return value

    def close(self, *, wait: bool) -> None:
        # Under the lock: a call in another thread may be writing to the channel's descriptor, and
        # once closed, that number goes to the next child's socket pair (a stray batch, answers to
        # the wrong calls). Calls that take the lock after the close fail on the closed channel.
        with self.lock:
            self.channel.close()  # the child's loop ends at the end of its channel
        if wait:
            self.child.wait()
        self.child.close()


def serve(fd: int) -> None:
    """The forked delivery child: deliver each batch that comes over the channel, answer with its
    report or its error, until the channel closes."""
    channel = Connection(fd)
    while True:
        try:
            settings, message_ids, actor = channel.recv()
        except EOFError:
            return
        try:
            answer = (True, _deliver(settings, message_ids, actor))
        except Exception as exc:  # noqa: BLE001 - the asking side raises it, as ProcessPoolExecutor does
            answer = (False, exc)
        try:
            channel.send(answer)
        except (pickle.PicklingError, TypeError, AttributeError):
            channel.send((False, RuntimeError(repr(answer[1]))))


def _start() -> _Child:
    path = server_socket()
    if path is not None:
        try:
            return _ForkedChild(path)
        except OSError:
            pass  # the fork server is gone: a forkserver of this process's own, as without one
    return _PoolChild()


class DeliveryProcess:
    """One child process that delivers batches, one at a time; started at once, so it is ready by
    the time the first batch has rendered."""

    def __init__(self) -> None:
        # Starting a forkserver waits for it to import the service (seconds): in a thread of its
        # own, so the send goes on storing and rendering meanwhile.
        self._child: _Child | None = None
        self._replacing = threading.Lock()
        self._starting = threading.Thread(target=self._start_in_background, daemon=True)
        self._starting.start()

    def _start_in_background(self) -> None:
        self._child = _start()

    def _ready_child(self) -> _Child:
        self._starting.join()
        if self._child is None:  # the start failed in its thread: try once more here, raising its error
            self._child = _start()
        return self._child

    def deliver(self, settings: Settings, message_ids: list[int], *, actor: str) -> DeliveryReport:
        """Deliver in the child and wait. A child that died (killed, out of memory) raises
        ``BrokenProcessPool`` and a new child takes the next call (the task's retry): the message it
        had claimed waits for the sending lease, as after any crash."""
        child = self._ready_child()
        try:
            return child.deliver(settings, message_ids, actor)
        except BrokenProcessPool:
            with self._replacing:  # every delivery queued in the dead child fails alike: replace it once
                if self._child is child:
                    child.close(wait=False)
                    self._child = _start()
            raise

    def close(self) -> None:
        self._starting.join()
        if self._child is not None:
            self._child.close(wait=True)
