"""What tests/test_worker.py asks the fork server (or the launcher) to run: as ``__main__`` it
reports where it runs and ends as FORK_TARGET asks; :func:`echo` answers over its channel."""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from multiprocessing.connection import Connection


def report() -> None:
    print(
        json.dumps(
            {
                "pid": os.getpid(),
                "ppid": os.getppid(),
                "cwd": os.getcwd(),
                "marker": os.environ.get("FORK_TARGET_MARKER"),
                "argv": sys.argv[1:],
            }
        ),
        flush=True,
    )
    print("on stderr", file=sys.stderr, flush=True)


def echo(fd: int) -> None:
    channel = Connection(fd)
    while True:
        try:
            message = channel.recv()
        except EOFError:
            return
        channel.send(("echo", message, os.getppid()))


if __name__ == "__main__":
    how = os.environ.get("FORK_TARGET", "exit:0")
    if how == "wait-for-term":  # SIGTERM handled: prints and ends with 143
        signal.signal(signal.SIGTERM, lambda *_: (print("TERM", flush=True), sys.exit(143)))
    elif how == "count-terms":  # each SIGTERM printed; ends with 143 a second after the first
        signal.signal(signal.SIGALRM, lambda *_: sys.exit(143))
        signal.signal(signal.SIGTERM, lambda *_: (print("TERM", flush=True), signal.setitimer(signal.ITIMER_REAL, 1.0)))
    report()  # the handler is in place once this is written
    if how.startswith("exit:"):
        sys.exit(int(how.removeprefix("exit:")))
    for _ in range(600):  # "wait": ended by whatever signal comes
        time.sleep(0.1)
    sys.exit(3)
