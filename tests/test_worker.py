"""The council worker's fork server (council/worker/forks.py), its launcher (council/worker/launch.py)
and the asking side (council/forking.py), on a real fork server process; the worker itself under
Prefect is tried in tests/test_prefect_faults.py (cancelling a run) and by every test that runs
`council run`."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from multiprocessing.connection import Connection
from pathlib import Path

import pytest

from council.config import PROJECT_ROOT
from council.forking import SOCKET_ENV, fork
from tests.conftest import start_fork_server, wait_for_socket
from tests.helpers import process_running

TARGET = "tests.fork_target"


def _gone(pid: int, timeout: float = 20) -> bool:
    deadline = time.monotonic() + timeout
    while process_running(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def test_a_forked_child_takes_the_askers_environment_folder_streams_and_exit_code(
    fork_server: tuple[Path, int],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture,
) -> None:
    path, server_pid = fork_server
    monkeypatch.setenv("FORK_TARGET_MARKER", "äö-merkki")
    monkeypatch.setenv("FORK_TARGET", "exit:7")
    monkeypatch.chdir(tmp_path)
    child = fork(str(path), run=TARGET)
    assert child is not None
    assert child.wait() == 7
    child.close()
    out, err = capfd.readouterr()
    seen = json.loads(out.splitlines()[0])
    assert seen == {
        "pid": child.pid,
        "ppid": server_pid,
        "cwd": str(tmp_path),
        "marker": "äö-merkki",
        "argv": [],
    }
    assert err.strip() == "on stderr"


def test_signals_reach_the_child_and_a_signal_death_is_reported_as_such(
    fork_server: tuple[Path, int], monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture
) -> None:
    path, _ = fork_server
    monkeypatch.setenv("FORK_TARGET", "wait-for-term")
    handled = fork(str(path), run=TARGET)
    assert handled is not None
    capfd_wait(capfd, '"pid"')
    handled.signal(signal.SIGTERM)
    assert handled.wait() == 143
    assert "TERM" in capfd.readouterr().out

    monkeypatch.setenv("FORK_TARGET", "wait")
    killed = fork(str(path), run=TARGET)
    assert killed is not None
    capfd_wait(capfd, '"pid"')
    killed.signal(signal.SIGTERM)
    assert killed.wait() == -signal.SIGTERM


def test_a_child_whose_asker_is_gone_is_killed(
    fork_server: tuple[Path, int], monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture
) -> None:
    """The worker escalated to SIGKILL on the run's process: the forked run must not live on."""
    path, _ = fork_server
    monkeypatch.setenv("FORK_TARGET", "wait")
    child = fork(str(path), run=TARGET)
    assert child is not None
    capfd_wait(capfd, '"pid"')
    assert process_running(child.pid)
    child.close()
    assert _gone(child.pid)


def test_a_called_function_gets_its_own_channel(fork_server: tuple[Path, int]) -> None:
    path, server_pid = fork_server
    ours, theirs = socket.socketpair()
    child = fork(str(path), call=f"{TARGET}:echo", channel=theirs.fileno())
    theirs.close()
    assert child is not None
    channel = Connection(ours.detach())
    channel.send({"batch": [1, 2, 3]})
    assert channel.recv() == ("echo", {"batch": [1, 2, 3]}, server_pid)
    channel.close()  # the function returns at the end of its channel, the child ends with 0
    assert child.wait() == 0


def test_a_bad_request_is_refused_and_the_server_goes_on(fork_server: tuple[Path, int]) -> None:
    path, _ = fork_server
    for request, fds in ((b"not json", [0, 1, 2]), (b'{"env": {}, "cwd": "/"}', [0]), (b"[]", [0, 1, 2])):
        conn = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        conn.connect(str(path))
        socket.send_fds(conn, [request], fds)
        assert conn.recv(4096) == b""  # closed without an answer
        conn.close()
    child = fork(str(path), run=TARGET)
    assert child is not None and child.wait() == 0


def test_no_fork_server_no_child(tmp_path: Path) -> None:
    assert fork(str(tmp_path / "none.sock"), run=TARGET) is None


def test_the_launcher_ends_as_the_engine_would_with_or_without_the_fork_server(
    fork_server: tuple[Path, int], tmp_path: Path
) -> None:
    """`python -m council.worker.launch` with a bad flow run id: Prefect's engine refuses it with
    exit code 1 and its message on stderr, forked or (no fork server) started by the launcher itself."""
    path, _ = fork_server
    results = {}
    for case, socket_path in (("forked", path), ("alone", tmp_path / "none.sock")):
        env = {**os.environ, SOCKET_ENV: str(socket_path), "PREFECT__FLOW_RUN_ID": "ei-tunnus"}
        done = subprocess.run(
            [sys.executable, "-m", "council.worker.launch"],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
        )
        results[case] = (done.returncode, "Invalid flow run id" in done.stderr)
    assert results == {"forked": (1, True), "alone": (1, True)}


def test_the_launcher_relays_a_signal_to_its_group_once_or_becomes_the_run_itself(
    fork_server: tuple[Path, int], tmp_path: Path
) -> None:
    """A SIGTERM to the launcher's whole process group (`council run` stopping a worker) reaches
    the forked run through the launcher, once, and the launcher ends with the run's exit code.
    (The run is in the fork server's group here, so only the relay can bring it the signal; that
    the worker's own fork server is outside the worker's group is checked in the restart test.)
    Without a fork server the launcher is replaced by the run: same pid, no fork server as parent."""
    path, server_pid = fork_server
    code = "import sys, council.worker.launch as launch; launch.ENGINE = 'tests.fork_target'; sys.exit(launch.main())"
    seen = {}
    for case, socket_path in (("forked", path), ("alone", tmp_path / "none.sock")):
        env = {**os.environ, SOCKET_ENV: str(socket_path), "FORK_TARGET": "count-terms"}
        launcher = subprocess.Popen(
            [sys.executable, "-c", code],
            env=env,
            cwd=PROJECT_ROOT,
            stdout=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        assert launcher.stdout is not None
        report = json.loads(launcher.stdout.readline())  # the run's SIGTERM handler is set by now
        _wait_until_caught(launcher.pid, signal.SIGTERM)  # and the launcher's relay (after the fork)
        os.killpg(launcher.pid, signal.SIGTERM)
        terms = launcher.stdout.read().split()
        seen[case] = (report["pid"] == launcher.pid, report["ppid"] == server_pid, terms, launcher.wait())
    assert seen == {"forked": (False, True, ["TERM"], 143), "alone": (True, False, ["TERM"], 143)}


def test_the_fork_server_stops_with_its_worker(tmp_path: Path) -> None:
    path = tmp_path / "forks.sock"
    parent = start_fork_server(path, parent=True)
    try:
        assert parent.stdout is not None
        server_pid = int(parent.stdout.readline())
        wait_for_socket(path, parent)
    finally:
        parent.kill()
        parent.wait()
    assert _gone(server_pid)
    assert not path.exists()


def _wait_until_caught(pid: int, signum: int, timeout: float = 20) -> None:
    """Wait until process ``pid`` has a handler for ``signum`` (SigCgt in /proc/PID/status)."""
    deadline = time.monotonic() + timeout
    while True:
        status = Path(f"/proc/{pid}/status").read_text()
        caught = int(next(line for line in status.splitlines() if line.startswith("SigCgt:")).split()[1], 16)
        if caught & (1 << (signum - 1)):
            return
        assert time.monotonic() < deadline, f"process {pid} never caught signal {signum}"
        time.sleep(0.02)


def capfd_wait(capfd: pytest.CaptureFixture, text: str, timeout: float = 20) -> None:
    """Wait until the child has written ``text`` (it has set its signal handlers by then)."""
    deadline = time.monotonic() + timeout
    seen = ""
    while text not in seen:
        assert time.monotonic() < deadline, f"the child did not write {text!r}"
        time.sleep(0.05)
        out, _ = capfd.readouterr()
        seen += out


def test_the_worker_starts_its_fork_server_again_when_the_code_changed_or_it_stopped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A fork server holds the code it imported: after a `git pull` (the project's Python files
    changed) or its death, the next run starts the engine itself and a new fork server is started."""
    import council.worker.__main__ as worker

    monkeypatch.setattr(worker, "RESTART_SECONDS", 0.0)
    forks = worker.ForkServerProcess(tmp_path)
    forks.start()
    try:
        assert forks.wait_ready() and forks.process is not None
        first = forks.process.pid
        assert forks.socket() == forks.path
        # a session of its own: a signal to the worker's group reaches its runs via their launchers only
        assert os.getsid(first) == first != os.getsid(0)

        monkeypatch.setattr(worker, "code_fingerprint", lambda: (1, 1))
        assert forks.socket() is None  # this run starts the engine itself, with the new code
        assert forks.process.pid != first and _gone(first)
        assert forks.wait_ready() and forks.socket() == forks.path

        second = forks.process.pid
        forks.process.kill()
        forks.process.wait()
        assert forks.socket() is None
        assert forks.process.pid != second
        assert forks.wait_ready() and forks.socket() == forks.path
    finally:
        forks.stop()
    assert forks.process.poll() is not None
