"""``python -m council.worker --pool council --name NAME``: a process worker with its fork server.

What ``prefect worker start --pool council --name NAME`` does, with Prefect's own ProcessWorker,
except that a run's process is :mod:`council.worker.launch` and its fork server is started first:
the worker asks for runs only once the fork server has imported the flows (or has failed to: then
every run starts the engine itself, as under Prefect's own worker).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

from prefect.utilities.processutils import command_to_string, setup_signal_handlers_worker
from prefect.workers.process import ProcessJobConfiguration, ProcessWorker

from council.config import PROJECT_ROOT
from council.forking import SOCKET_ENV

#: Waiting longer than this for the fork server means something is wrong with it: go on without.
READY_TIMEOUT = 120
LAUNCHER = [sys.executable, "-m", "council.worker.launch"]


#: A fork server that stopped, or whose code changed, is started again at most this often.
RESTART_SECONDS = 60.0
#: The Python code a fork server imports: a change there (a `git pull`) needs a new fork server.
CODE_FOLDERS = ("council", "flows", "models")


def code_fingerprint() -> tuple[int, int]:
    """(newest modification time, number) of the project's Python files."""
    files = [path for folder in CODE_FOLDERS for path in (PROJECT_ROOT / folder).rglob("*.py")]
    return max((path.stat().st_mtime_ns for path in files), default=0), len(files)


class ForkServerProcess:
    """The worker's fork server (council/worker/forks.py), kept in step with the worker: started
    with it, started again when it has stopped or when the project's code has changed since it
    imported it. Runs asked for meanwhile start the engine themselves (and so import the new code)."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / "forks.sock"
        self.process: subprocess.Popen | None = None
        self.code = code_fingerprint()
        self.started_at = 0.0

    def start(self) -> None:
        self.path.unlink(missing_ok=True)
        self.code = code_fingerprint()
        self.started_at = time.monotonic()
        # A session of its own: a signal to the worker's process group (`council run` stopping,
        # Ctrl-C in a terminal) reaches the launchers, which are in that group (Prefect starts a
        # configured command there), and through each launcher its forked run, once: not a second
        # time directly, and not the fork server or a delivery process at all.
        self.process = subprocess.Popen(
            [sys.executable, "-m", "council.worker.forks", str(self.path)], start_new_session=True
        )

    def wait_ready(self, timeout: float = READY_TIMEOUT) -> bool:
        deadline = time.monotonic() + timeout
        while self.ready_socket() is None:
            if self.process is None or self.process.poll() is not None or time.monotonic() > deadline:
                code = None if self.process is None else self.process.poll()
                print(f"Haarukointipalvelin ei käynnistynyt (koodi {code}): ajot käynnistyvät hitaammin.")
                return False
            time.sleep(0.1)
        return True

    def ready_socket(self) -> Path | None:
        """The socket while the server runs and answers there."""
        if self.process is None or self.process.poll() is not None:
            return None
        return self.path if self.path.exists() else None

    def socket(self) -> Path | None:
        """The socket for a run about to start; None (the run starts the engine itself) while a
        stopped or outdated server is started again."""
        if self.process is None:
            return None
        stopped = self.process.poll() is not None
        outdated = not stopped and self.code != code_fingerprint()
        # An outdated server still running runs is left to them (stopping it would lose their exit
        # codes): the new server is started once they are done.
        busy = outdated and self.has_children()
        if (stopped or outdated) and not busy and time.monotonic() - self.started_at >= RESTART_SECONDS:
            why = f"pysähtyi (koodi {self.process.returncode})" if stopped else "koodi on muuttunut"
            print(f"Haarukointipalvelin {why}; käynnistetään uudelleen.")
            self.stop()
            self.start()
            return None
        return None if outdated else self.ready_socket()

    def has_children(self) -> bool:
        """Whether the server has forked runs (or delivery processes) still running."""
        assert self.process is not None
        pid = self.process.pid
        try:
            return bool(Path(f"/proc/{pid}/task/{pid}/children").read_text().split())
        except OSError:
            return False

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


with warnings.catch_warnings():
    # Prefect warns that this class takes the worker type "process" over, in this process only:
    # that is its purpose.
    warnings.simplefilter("ignore", UserWarning)

    class CouncilWorker(ProcessWorker):
        """Prefect's process worker; a run's command is the launcher, unless its deployment sets one
        or the fork server is not there."""

        def __init__(self, *args: Any, forks: ForkServerProcess, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.forks = forks

        async def run(
            self, flow_run: Any, configuration: ProcessJobConfiguration, task_status: Any = None
        ) -> Any:
            path = self.forks.socket()
            if path is not None and not configuration._command_configured:  # noqa: SLF001
                configuration.command = command_to_string(LAUNCHER)
                # what a deployment's `command` job variable sets: Prefect starts it as the run's process
                configuration._command_configured = True  # noqa: SLF001
                configuration.env[SOCKET_ENV] = str(path)
            return await super().run(flow_run, configuration, task_status)


async def serve(pool: str, name: str, forks: ForkServerProcess) -> None:
    async with CouncilWorker(work_pool_name=pool, name=name, forks=forks) as worker:
        await worker.start(printer=print)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m council.worker", description=__doc__.splitlines()[0])
    parser.add_argument("--pool", required=True, help="työjono (work pool)")
    parser.add_argument("--name", default=socket.gethostname(), help="työntekijän nimi (oletus: koneen nimi)")
    args = parser.parse_args(argv)
    folder = Path(tempfile.mkdtemp(prefix="council-worker-"))
    forks = ForkServerProcess(folder)
    # As `prefect worker start`: the first SIGTERM or Ctrl-C stops taking runs, a second kills.
    setup_signal_handlers_worker(os.getpid(), "the council worker", print)
    try:
        forks.start()
        forks.wait_ready()  # runs are taken once it answers: the first run starts fast as well
        asyncio.run(serve(args.pool, args.name, forks))
    except KeyboardInterrupt:
        pass
    finally:
        forks.stop()
        shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
