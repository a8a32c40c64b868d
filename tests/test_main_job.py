"""The main job as `make run` runs it: real Prefect server and worker, local SMTP, SQLite."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from council.config import PROJECT_ROOT
from council.delivery.pdf import soffice
from tests.conftest import free_port
from tests.helpers import read_eml

pytestmark = pytest.mark.e2e


def _run(env: dict[str, str]) -> subprocess.CompletedProcess:
    council = str(Path(sys.executable).parent / "council")
    subprocess.run([council, "init"], env=env, cwd=PROJECT_ROOT, check=True, capture_output=True, timeout=120)
    return subprocess.run(
        [council, "run", "--exit"], env=env, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=600
    )


def test_main_job_sends_once_and_a_second_run_sends_nothing(tmp_path: Path) -> None:
    """`council run` completes send-proposal through the worker: 12 DOCX (and their PDF/A copies by
    default where LibreOffice is installed), 6 .eml; a rerun adds none."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COUNCIL_", "PREFECT_"))}
    prefect_port = free_port()
    smtp_port = free_port()
    while smtp_port == prefect_port:
        smtp_port = free_port()
    env.update(
        {
            "COUNCIL_STATE_DIR": str(tmp_path / "state"),
            "COUNCIL_OUTPUTS_DIR": str(tmp_path / "outputs"),
            "COUNCIL_PREFECT_PORT": str(prefect_port),
            "COUNCIL_LOCAL_SMTP_PORT": str(smtp_port),
        }
    )
    first = _run(env)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "send-proposal: Completed" in first.stdout
    docs = list((tmp_path / "outputs").rglob("*.docx"))
    mails = sorted((tmp_path / "outputs" / "mail").glob("*.eml"))
    assert len(docs) == 12 and len(mails) == 6
    # Both documents and their JHS 143 description; PDF/A copies of both where LibreOffice is installed.
    expected = 3 + (2 if soffice() else 0)
    for mail in mails:
        assert len(list(read_eml(mail).iter_attachments())) == expected
    second = _run(env)
    assert second.returncode == 0, second.stdout + second.stderr
    assert "send-proposal: Completed" in second.stdout
    assert len(list((tmp_path / "outputs" / "mail").glob("*.eml"))) == 6
    assert (tmp_path / "state" / "prefect").is_dir()
