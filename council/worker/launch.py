"""A flow run's process under the council worker: asks the fork server to run it, and stands for it.

``python -m council.worker.launch`` is the command the worker starts per flow run, in the run's
environment and folder, as it would start ``python -m prefect.engine``. It imports nothing but the
standard library (and :mod:`council.forking`, which imports nothing else): the fork server's child
runs the engine with this process's environment, folder and standard streams; this process passes
on the signals it gets (the worker's SIGTERM when a run is cancelled) and ends as the child ended,
with its exit code or its signal. So the worker sees one process per run, as it always has.
Without a fork server (not started, not ready, stopped) it becomes ``python -m prefect.engine``.
"""

from __future__ import annotations

import os
import signal
import sys

from council.forking import ForkError, fork, server_socket

#: Signals the worker may send a flow run's process; each is raised in the forked child.
RELAYED = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
ENGINE = "prefect.engine"


def main() -> int:
    path = server_socket()
    try:
        child = fork(path, run=ENGINE) if path and not sys.argv[1:] else None
    except ForkError as exc:  # a child may be running it: never start the run a second time
        print(f"Haarukointipalvelin ei vastannut: {exc}", file=sys.stderr)
        return 1
    if child is None:
        os.execv(sys.executable, [sys.executable, "-m", ENGINE, *sys.argv[1:]])
    for signum in RELAYED:
        signal.signal(signum, lambda signum, _frame: child.signal(signum))
    code = child.wait()
    if code is None:  # the fork server stopped while the run went on: its exit code is lost
        return 1
    if code < 0:  # killed by a signal: end the same way, so the worker reads it as before
        signal.signal(-code, signal.SIG_DFL)
        os.kill(os.getpid(), -code)
    return code


if __name__ == "__main__":
    sys.exit(main())
