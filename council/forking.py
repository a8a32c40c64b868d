"""Asking the worker's fork server for a child process: the client side, standard library only.

The council worker (council/worker) keeps a fork server that has imported Prefect, the flows and
the service once. :func:`fork` asks it for a child that takes this process's environment, working
folder and standard streams, then either runs a module as ``__main__`` (a flow run's engine) or
calls a function with a socket of its own (send-proposal's delivery process). The child is
forked, not started: it begins with everything imported, in milliseconds instead of seconds.

The conversation (``SOCK_SEQPACKET``, one JSON message per send): the request, with the streams
(and the channel) attached as file descriptors; the answer ``{"pid": N}``; when the child ends,
``{"exit": code}`` (negative: the signal that killed it). The asking side may send a signal number,
raised in the child; if the asking side goes away, the child is killed.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
from dataclasses import dataclass

#: The fork server's socket, set by the worker in each flow run's environment.
SOCKET_ENV = "COUNCIL_FORK_SOCKET"


class ForkError(RuntimeError):
    """The fork server took the request and gave no answer: a child may be running."""


def server_socket() -> str | None:
    return os.environ.get(SOCKET_ENV) or None


@dataclass
class Forked:
    """A child of the fork server, as seen by the process that asked for it."""

    conn: socket.socket
    pid: int

    def signal(self, signum: int) -> None:
        with contextlib.suppress(OSError):  # the child ended meanwhile
            self.conn.send(str(signum).encode())

    def wait(self) -> int | None:
        """The child's exit code (negative: killed by that signal); None if the fork server
        stopped before the child did, and the code is lost."""
        while True:
            message = self.conn.recv(4096)
            if not message:
                return None
            reply = json.loads(message)
            if "exit" in reply:
                return int(reply["exit"])

    def close(self) -> None:
        self.conn.close()


def fork(
    path: str, *, run: str | None = None, call: str | None = None, channel: int | None = None
) -> Forked | None:
    """A child of the fork server at ``path`` that runs module ``run`` as ``__main__``, or calls
    ``call`` (``"module:function"``) with the file descriptor ``channel``. None when no fork server
    takes the request there (not started, not ready yet, stopped); :class:`ForkError` when it took
    it and did not answer."""
    request = {"env": dict(os.environ), "cwd": os.getcwd(), "run": run, "call": call}
    fds = [0, 1, 2] if channel is None else [0, 1, 2, channel]
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    try:
        conn.connect(path)
        socket.send_fds(conn, [json.dumps(request).encode()], fds)
    except OSError:
        conn.close()
        return None
    # Asked: a child may exist from here on, so no answer is an error, never "no fork server"
    # (the caller would then run the same work a second time).
    try:
        return Forked(conn, int(json.loads(conn.recv(4096))["pid"]))
    except (OSError, ValueError, KeyError) as exc:
        conn.close()
        raise ForkError(f"the fork server at {path} did not answer: {exc!r}") from exc
