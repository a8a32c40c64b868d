"""The Prefect server of `council run`: its environment, its process, and its head start.

The Prefect server is the long pole of `council run`'s start (15–25 s on 2 cores until it answers).
Importing the command line before it (Typer, Rich, SQLAlchemy, Alembic, the service) takes another
two to three seconds. So the ``council`` command (:mod:`council.cli.main`) starts the server *before*
it imports the command line when it is asked for ``run``: :func:`head_start`. This module imports
only the standard library and the settings. ``council run`` then adopts that server
(:func:`take_head_start`) and stops it with its other children. If the command never gets there
(bad options, a port in use, an error on the way), the server is stopped when the process ends.
"""

from __future__ import annotations

import atexit
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from council.config import PROJECT_ROOT, Settings, get_settings
from council.errors import CouncilError

SERVER = "prefect-server"
#: The server started by :func:`head_start` and when; stopped at exit unless stopped before.
_head_start: tuple[subprocess.Popen, float] | None = None


def prefect_env(settings: Settings) -> dict[str, str]:
    """Environment for the Prefect server, worker and CLI: local, quiet, no telemetry."""
    port = settings.prefect_port
    api = f"http://127.0.0.1:{port}/api"
    env = dict(os.environ)
    env.update(
        {
            "PREFECT_HOME": str(settings.state_dir / "prefect"),
            "PREFECT_API_URL": api,
            "PREFECT_UI_API_URL": api,
            "PREFECT_SERVER_API_HOST": "127.0.0.1",
            "PREFECT_SERVER_API_PORT": str(port),
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "DO_NOT_TRACK": "1",
            "PREFECT_SERVER_UI_SHOW_PROMOTIONAL_CONTENT": "false",
            "PREFECT_CLI_PROMPT": "false",
            "COUNCIL_HOME": str(settings.home),
            # How often a worker asks for runs to start (Prefect's default is 10 s): a shared
            # send's part runs start on the other workers within this time.
            "PREFECT_WORKER_QUERY_SECONDS": os.environ.get("PREFECT_WORKER_QUERY_SECONDS", "2"),
        }
    )
    return env


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def bin_path(name: str) -> str:
    """A command of this environment (the venv's ``prefect``), else the one on PATH."""
    local = Path(sys.executable).parent / name
    return str(local) if local.exists() else (shutil.which(name) or name)


def server_args(port: int) -> list[str]:
    return [bin_path("prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)]


def spawn(log_dir: Path, name: str, args: list[str], env: dict[str, str]) -> subprocess.Popen:
    """A child of `council run` in a process group of its own (stopped by group), its output
    appended to ``log_dir/name.log``."""
    log_dir.mkdir(parents=True, exist_ok=True)
    with (log_dir / f"{name}.log").open("ab") as log:  # the child keeps its own copy
        return subprocess.Popen(
            args, env=env, cwd=PROJECT_ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )


def needed_ports(settings: Settings) -> list[tuple[int, str]]:
    """The ports `council run` listens on, each with what listens: the Prefect server's, and the
    local SMTP server's when it is the one used."""
    ports = [(settings.prefect_port, "Prefect-palvelin")]
    if settings.uses_local_smtp:
        ports.append((settings.effective_smtp_port, "SMTP-palvelin"))
    return ports


def wants_head_start(argv: list[str]) -> bool:
    """``council run …``, not its help."""
    return argv[:1] == ["run"] and not {"--help", "-h"} & set(argv)


def head_start(argv: list[str]) -> None:
    """Start the Prefect server now if ``argv`` is ``run`` and the start can go ahead: valid
    settings and free ports. Otherwise do nothing; ``council run`` reports what stops it."""
    global _head_start
    if _head_start is not None or not wants_head_start(argv):
        return
    try:
        settings = get_settings()
        if any(port_open(port) for port, _ in needed_ports(settings)):
            return
        env = prefect_env(settings)
        process = spawn(settings.state_dir / "logs", SERVER, server_args(settings.prefect_port), env)
    except (CouncilError, OSError):  # a bad setting, a folder it cannot write: the run says which
        return
    _head_start = (process, time.monotonic())
    atexit.register(_stop_unclaimed)
    if signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:  # until `council run` sets its own: stop it too
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))


def head_started(settings: Settings) -> bool:
    """A server of :func:`head_start` is there for these settings (so its port is ours)."""
    return (
        _head_start is not None
        and _head_start[0].poll() is None  # one that died already: the run starts its own, or says why
        and _head_start[0].args == server_args(settings.prefect_port)
    )


def take_head_start(settings: Settings) -> tuple[subprocess.Popen, float] | None:
    """The server :func:`head_start` started for these settings' port and when (monotonic), for
    the caller to stop with its other children; None if there is none. The exit hook stays as a
    safety net (a signal before the caller has it in hand): stopping a stopped server does nothing."""
    global _head_start
    if _head_start is None or head_started(settings):
        return _head_start
    stop_group(_head_start[0])  # died, or another port (settings changed in between): not to be used
    _head_start = None
    return None


def stop_group(process: subprocess.Popen, timeout: float = 20) -> None:
    """Stop a child started in a process group of its own: SIGTERM to the group, SIGKILL after
    ``timeout`` seconds."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _stop_unclaimed() -> None:
    if _head_start is not None:
        stop_group(_head_start[0])
