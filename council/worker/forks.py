"""The fork server: imports Prefect's engine and the flows once, then forks a child per request.

``python -m council.worker.forks SOCKET`` — started by the worker (:mod:`council.worker.__main__`)
with the worker's environment. It listens on a Unix socket; :func:`council.forking.fork` is the
asking side and describes the conversation. A child takes the asker's standard streams,
environment and folder and runs what was asked: ``prefect.engine`` as ``__main__``, exactly what
``python -m prefect.engine`` runs (a flow run, asked by :mod:`council.worker.launch`), or a function
of the service with a socket of its own (send-proposal's delivery process).

The server itself stays single-threaded and never opens a client, a database engine or an event
loop, so a fork copies nothing in use. A child reads the asker's side of the socket: a signal
number is raised in the child (the worker's SIGTERM on cancel reaches the engine this way); the
asker gone (killed outright) kills the child alike. The server stops when its parent (the worker)
is gone; children it leaves behind run to their end.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import logging
import os
import runpy
import selectors
import signal
import socket
import sys
import threading
import warnings
from dataclasses import dataclass
from pathlib import Path

import yaml

from council.config import PROJECT_ROOT

#: Imported before the first fork: Prefect's engine and every flow module of prefect.yaml.
ENGINE_MODULES = ("prefect.flow_engine", "prefect._internal.control_listener")
#: Largest request (the run's environment as JSON).
MAX_REQUEST = 1 << 20


def flow_modules(prefect_file: Path = PROJECT_ROOT / "prefect.yaml") -> list[str]:
    """The modules of prefect.yaml's entrypoints (``flows/send_proposal.py:send_proposal`` →
    ``flows.send_proposal``)."""
    deployments = yaml.safe_load(prefect_file.read_text(encoding="utf-8"))["deployments"]
    entrypoints = {d["entrypoint"].split(":", 1)[0] for d in deployments}
    return sorted(path.removesuffix(".py").replace("/", ".") for path in entrypoints)


def preload() -> None:
    for module in (*ENGINE_MODULES, *flow_modules()):
        importlib.import_module(module)
    if threading.active_count() != 1:  # a fork would copy a thread's locks mid-use
        raise RuntimeError(f"importing the flows started threads: {threading.enumerate()}")


@dataclass
class Job:
    """What a forked child was asked to do, with the asker's streams and socket."""

    env: dict[str, str]
    cwd: str
    run: str | None
    call: str | None
    fds: list[int]
    conn: socket.socket

    def enter(self) -> None:
        """Become the asker's process: its streams, environment, folder; its signals relayed."""
        for target, fd in zip((0, 1, 2), self.fds[:3], strict=True):
            os.dup2(fd, target)
            os.close(fd)
        os.environ.clear()
        os.environ.update(self.env)
        os.chdir(self.cwd)
        sys.argv = [sys.argv[0]]  # the engine takes the run's id from PREFECT__FLOW_RUN_ID
        # Prefect read its settings when it was imported, from the worker's environment.
        from prefect.context import refresh_global_settings_context
        from prefect.logging.configuration import setup_logging

        refresh_global_settings_context()
        setup_logging()  # levels from this environment (an incremental update)
        threading.Thread(target=self._relay_signals, name="council-signal-relay", daemon=True).start()

    def do(self) -> None:
        if self.call is not None:
            module, _, function = self.call.partition(":")
            getattr(importlib.import_module(module), function)(self.fds[3])
            # Done: the interpreter's own exit (collecting every module the fork server imported)
            # would take most of a second that its asker waits for.
            logging.shutdown()
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(0)
        else:
            # prefect.engine was imported with the flows; it runs again as __main__, as under `-m`.
            warnings.filterwarnings("ignore", message=".*found in sys.modules", category=RuntimeWarning)
            runpy.run_module(self.run or "prefect.engine", run_name="__main__", alter_sys=True)

    def _relay_signals(self) -> None:
        while True:
            try:
                message = self.conn.recv(64)
            except OSError:
                message = b""
            if not message:  # the asker was killed outright: so is its child
                os.kill(os.getpid(), signal.SIGKILL)
            with contextlib.suppress(ValueError):  # not a signal number: ignored
                os.kill(os.getpid(), int(message))


class ForkServer:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.parent = os.getppid()
        self.pid = os.getpid()

    def serve(self) -> Job:
        """Answer requests until the worker is gone. Returns only in a forked child, with its job."""
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        listener.bind(str(self.path))
        listener.listen(16)
        selector = selectors.DefaultSelector()
        selector.register(listener, selectors.EVENT_READ, None)
        try:
            while os.getppid() == self.parent:
                for key, _ in selector.select(timeout=1.0):
                    if key.data is None:
                        conn, _ = listener.accept()
                        selector.register(conn, selectors.EVENT_READ, ("request", conn))
                    elif key.data[0] == "request":
                        selector.unregister(key.fileobj)
                        job = self._fork(key.data[1], selector)
                        if job is not None:  # in the child: nothing of the other runs kept
                            for other in list(selector.get_map().values()):
                                if other.fileobj is not job.conn:
                                    if isinstance(other.fileobj, int):
                                        os.close(other.fileobj)
                                    else:
                                        other.fileobj.close()
                            selector.close()
                            listener.close()
                            return job
                    else:
                        selector.unregister(key.fileobj)
                        self._report_exit(key.fileobj, *key.data[1:])
            raise SystemExit(0)
        finally:
            if os.getpid() == self.pid:
                self.path.unlink(missing_ok=True)

    def _fork(self, conn: socket.socket, selector: selectors.BaseSelector) -> Job | None:
        request, fds = _read_request(conn)
        if request is None:
            for fd in fds:
                os.close(fd)
            conn.close()
            return None
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            signal.signal(signal.SIGINT, signal.default_int_handler)
            return Job(request["env"], request["cwd"], request.get("run"), request.get("call"), fds, conn)
        for fd in fds:
            os.close(fd)
        pidfd = os.pidfd_open(pid)
        selector.register(pidfd, selectors.EVENT_READ, ("exit", pid, conn))
        _send(conn, {"pid": pid})
        return None

    @staticmethod
    def _report_exit(pidfd: int, pid: int, conn: socket.socket) -> None:
        os.close(pidfd)
        _, status = os.waitpid(pid, 0)
        _send(conn, {"exit": os.waitstatus_to_exitcode(status)})
        conn.close()


def _read_request(conn: socket.socket) -> tuple[dict | None, list[int]]:
    """The request and its descriptors: three streams, and the channel of a ``call``."""
    try:
        message, fds, _flags, _address = socket.recv_fds(conn, MAX_REQUEST, 4)
    except OSError:
        return None, []
    try:
        request = json.loads(message)
        wanted = 4 if request.get("call") else 3
        if len(fds) != wanted or not isinstance(request.get("env"), dict):
            return None, fds
    except (ValueError, AttributeError):
        return None, fds
    return request, fds


def _send(conn: socket.socket, message: dict) -> None:
    with contextlib.suppress(OSError):  # the peer is gone; it learns so from the socket
        conn.send(json.dumps(message).encode())


def main(argv: list[str]) -> None:
    (path,) = argv
    # The worker stops its fork server with SIGTERM; children restore the default after the fork.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    preload()
    job = ForkServer(Path(path)).serve()
    job.enter()
    job.do()


if __name__ == "__main__":
    main(sys.argv[1:])
