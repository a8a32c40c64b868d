"""`council run` gets its Prefect server started before the command line is imported
(council/cli/prefect_server.py): the server is adopted by the run, and stopped when the command
ends before it gets there; a port in use is still reported, with no server started."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest

from council.cli.prefect_server import wants_head_start
from council.config import PROJECT_ROOT
from tests.browser.prefect_stack import CouncilStack

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize(
    ("argv", "wanted"),
    [
        (["run"], True),
        (["run", "--no-send", "--workers", "2"], True),
        (["run", "--help"], False),
        (["run", "-h"], False),
        (["status", "run"], False),
        ([], False),
    ],
)
def test_only_council_run_gets_a_head_start(argv: list[str], wanted: bool) -> None:
    assert wants_head_start(argv) is wanted


def _council(stack: CouncilStack, *args: str) -> subprocess.CompletedProcess[str]:
    council = str(Path(sys.executable).parent / "council")
    return subprocess.run(
        [council, *args], env=stack.env, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120
    )


def test_a_run_stopped_by_a_bad_option_leaves_no_server_behind(tmp_path: Path) -> None:
    """The server was started (its log is there) and is gone when the command has ended."""
    stack = CouncilStack(tmp_path)
    done = _council(stack, "run", "--tyontekijat", "2")
    assert done.returncode == 2 and "--tyontekijat" in done.stderr
    assert (stack.state_dir / "logs" / "prefect-server.log").exists()
    assert stack.kill_leftovers() == []


@pytest.mark.parametrize("taken", ["prefect", "smtp"])
def test_a_port_in_use_is_reported_and_no_server_is_started(tmp_path: Path, taken: str) -> None:
    stack = CouncilStack(tmp_path)
    port = stack.prefect_port if taken == "prefect" else stack.smtp_port
    what = "Prefect-palvelin" if taken == "prefect" else "SMTP-palvelin"
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", port))
        listener.listen()
        done = _council(stack, "run", "--no-send", "--exit")
    assert done.returncode == 2
    assert f"Portti {port} ({what}) on jo käytössä" in done.stderr
    assert not (stack.state_dir / "logs" / "prefect-server.log").exists()
    assert stack.kill_leftovers() == []


@pytest.mark.parametrize("bad", ["port", "port-range", "state-folder"])
def test_a_bad_setting_is_reported_in_finnish_and_starts_nothing(tmp_path: Path, bad: str) -> None:
    """No head start when the settings do not validate or its log folder cannot be made: the run
    reports the setting or the folder as any command would, without a traceback."""
    stack = CouncilStack(tmp_path)
    if bad in ("port", "port-range"):
        stack.env["COUNCIL_PREFECT_PORT"] = "neljätuhatta" if bad == "port" else "70000"
        expected = "COUNCIL_PREFECT_PORT"
    else:
        (tmp_path / "tiedosto").write_text("ei kansio", encoding="utf-8")
        stack.state_dir = tmp_path / "tiedosto" / "state"  # what leftovers() looks for
        stack.env["COUNCIL_STATE_DIR"] = str(stack.state_dir)
        expected = str(tmp_path / "tiedosto")
    done = _council(stack, "run", "--no-send", "--exit")
    assert done.returncode == 2, done.stderr
    assert expected in done.stderr and "Traceback" not in done.stderr
    assert stack.kill_leftovers() == []
