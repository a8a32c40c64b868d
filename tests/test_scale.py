"""Scale-out: PostgreSQL and two Prefect workers on one work pool sending one national campaign.

Two send-proposal runs of a 329-body roster run at the same time on two process workers against one
Prefect server and one PostgreSQL database: each message is claimed by exactly one sender (an atomic
compare-and-set UPDATE on the outbox row, see council/outbox.py), so every body gets exactly one email.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from council.config import PROJECT_ROOT
from models.enums import EventKind
from models.tables import Event, Message, SendBatch
from tests.browser.prefect_stack import CouncilStack
from tests.helpers import read_eml

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]
BODIES = 329  # 308 municipalities + 21 wellbeing services counties


def national_roster(path: Path, count: int = BODIES) -> Path:
    lines = ['name: "Koko maa (synteettinen)"', "bodies:"]
    for n in range(1, count + 1):
        lines += [
            f"  - id: kunta-{n:03d}",
            f'    name: "Kunta {n:03d}"',
            f'    name_genitive: "Kunta {n:03d}:n"',
            f'    name_inessive: "Kunta {n:03d}:ssa"',
            "    kind: kunta",
            f'    deciding_body: "Kunta {n:03d}:n kunnanhallitus"',
            f'    registry_email: "kirjaamo@kunta-{n:03d}.example"',
        ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_two_workers_send_a_national_campaign_exactly_once(tmp_path: Path, postgres_url: str) -> None:
    """Two workers, two concurrent send-proposal runs, 329 bodies on PostgreSQL: 329 emails, none twice."""
    stack = CouncilStack(tmp_path)
    stack.env["COUNCIL_DATABASE_URL"] = postgres_url
    stack.env["COUNCIL_ROSTER_FILE"] = str(national_roster(tmp_path / "roster.yaml"))
    stack.env["COUNCIL_BATCH_SIZE"] = "50"
    second_worker = None
    try:
        stack.start()
        worker_env = {
            **stack.env,
            "PREFECT_API_URL": stack.api_url,
            "PREFECT_HOME": str(stack.state_dir / "prefect"),
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "COUNCIL_HOME": str(PROJECT_ROOT),
        }
        prefect = str(Path(sys.executable).parent / "prefect")
        second_worker = subprocess.Popen(
            [prefect, "worker", "start", "--pool", "council", "--name", "toinen-tyontekija"],
            env=worker_env,
            cwd=PROJECT_ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deployment = stack.deployment("send-proposal", "send-proposal")
        with stack.api() as client:
            runs = [stack.create_run(deployment["id"]) for _ in range(2)]
        finals = [stack.wait_for_final_state(run, timeout=600) for run in runs]
        assert all(r["state"]["type"] == "COMPLETED" for r in finals), finals
        with stack.api() as client:
            workers = client.post("/work_pools/council/workers/filter", json={}).json()
        assert len(workers) >= 2
    finally:
        if second_worker is not None and second_worker.poll() is None:
            os.killpg(second_worker.pid, signal.SIGTERM)
            second_worker.wait(timeout=30)
        stack.stop()
        stack.kill_leftovers()
    mails = sorted((tmp_path / "outputs" / "mail").glob("*.eml"))
    ids = Counter(read_eml(p)["Message-ID"] for p in mails)
    engine = create_engine(postgres_url)
    with Session(engine) as session:
        rows = session.scalars(select(Message)).all()
    engine.dispose()
    assert len(rows) == BODIES and {m.state for m in rows} == {"sent"}
    assert len(mails) == BODIES and set(ids) == {m.message_id for m in rows}
    assert max(ids.values()) == 1


def test_two_workers_share_one_send_through_prefect(
    tmp_path: Path, postgres_url: str, libreoffice: str
) -> None:
    """`council run --workers 2`: one send-proposal run starts a send-proposal-part run, which the
    other worker runs in a process of its own, and both take batches from the same work list. The
    part run starts a few seconds after send-proposal (the worker's poll, its submission), so the
    send must outlast that: 30 bodies in batches of two, each batch converted to PDF/A by
    LibreOffice. Each body gets one email, both runs sent some, and the work list is gone
    afterwards."""
    stack = CouncilStack(tmp_path, run_args=("--workers", "2"))
    stack.env.update(
        {
            "COUNCIL_DATABASE_URL": postgres_url,
            "COUNCIL_ROSTER_FILE": str(national_roster(tmp_path / "roster.yaml", 30)),
            "COUNCIL_BATCH_SIZE": "2",
            "COUNCIL_ATTACH_PDF": "true",
            "PREFECT_WORKER_QUERY_SECONDS": "1",
        }
    )
    try:
        stack.start()
        workers = stack.online_workers(2)
        assert sorted(w["name"] for w in workers) == ["council-1", "council-2"]
        with stack.api() as client:
            deployment = stack.deployment("send-proposal", "send-proposal")
            run = stack.create_run(deployment["id"])
        final = stack.wait_for_final_state(run, timeout=600)
        assert final["state"]["type"] == "COMPLETED", final
        with stack.api() as client:
            parts = client.post(
                "/flow_runs/filter", json={"flow_runs": {"parent_flow_run_id": {"any_": [run]}}}
            ).json()
    finally:
        stack.stop()
        stack.kill_leftovers()
    assert [p["state"]["type"] for p in parts] == ["COMPLETED"], parts
    to = Counter(str(read_eml(p)["To"]) for p in (tmp_path / "outputs" / "mail").glob("*.eml"))
    assert len(to) == 30 and set(to.values()) == {1}
    engine = create_engine(postgres_url)
    with Session(engine) as session:
        senders = Counter(
            session.scalars(select(Event.actor).where(Event.kind == EventKind.message_sent.value))
        )
        work_list = session.scalars(select(SendBatch)).all()
    engine.dispose()
    assert senders.keys() == {f"prefect:{final['name']}", f"prefect:{parts[0]['name']}"}, senders
    assert sum(senders.values()) == 30 and not work_list
