"""`council run` registers the work pool and the deployments in-process (council/cli/runner.py
`Registration`); what it registers must be exactly what Prefect's CLI registers from prefect.yaml."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from council.config import PROJECT_ROOT
from tests.browser.prefect_stack import CouncilStack

pytestmark = pytest.mark.e2e

# Set by the server on every write, or ids of other objects; everything else must be equal.
VOLATILE = {
    "id",
    "created",
    "updated",
    "flow_id",
    "work_queue_id",
    "default_queue_id",
    "last_polled",
    "status",
}


def _normal(value: object) -> object:
    if isinstance(value, dict):
        return {k: _normal(v) for k, v in sorted(value.items()) if k not in VOLATILE}
    if isinstance(value, list):
        return [_normal(v) for v in value]
    return value


def _registered(stack: CouncilStack) -> dict:
    """The work pool and every deployment (with its flow's name and schedules) as the API returns them."""
    with stack.api() as client:
        flows = {f["id"]: f["name"] for f in client.post("/flows/filter", json={}).raise_for_status().json()}
        deployments = client.post("/deployments/filter", json={}).raise_for_status().json()
        pool = client.get("/work_pools/council").raise_for_status().json()
    for deployment in deployments:
        deployment["flow"] = flows[deployment["flow_id"]]
        deployment.get("labels", {}).pop("prefect.flow.id", None)
        for schedule in deployment.get("schedules", []):
            schedule.pop("deployment_id", None)
    deployments.sort(key=lambda d: (d["flow"], d["name"]))
    return {"pool": _normal(pool), "deployments": _normal(deployments)}


def test_in_process_registration_equals_prefects_cli(tmp_path: Path) -> None:
    """After `council run --no-send` (whose Prefect server is the one started before the command
    line was imported), Prefect's own `work-pool create --overwrite` and `deploy --all` (then
    `council refresh-forms`, as the run does) against the same server change nothing."""
    stack = CouncilStack(tmp_path)
    try:
        stack.start()
        # the server the `council` command started before its import is the one the run adopted
        log = (stack.state_dir / "logs" / "startup.log").read_text(encoding="utf-8")
        assert "Prefect-palvelin käynnistetty (ennen komentoriviä)" in log, log
        servers = [cmd for _, cmd in stack.leftovers() if "prefect server start" in cmd]
        assert len(servers) == 1, servers
        ours = _registered(stack)
        # every deployment prefect.yaml names
        listed = yaml.safe_load((PROJECT_ROOT / "prefect.yaml").read_text(encoding="utf-8"))["deployments"]
        assert len(ours["deployments"]) == len(listed) and ours["pool"]["type"] == "process"
        env = {**stack.env, "PREFECT_API_URL": stack.api_url, "COUNCIL_HOME": str(PROJECT_ROOT)}
        env["PREFECT_HOME"] = str(stack.state_dir / "prefect")
        prefect = str(Path(sys.executable).parent / "prefect")
        for args in (
            [prefect, "work-pool", "create", "council", "--type", "process", "--overwrite"],
            [prefect, "--no-prompt", "deploy", "--all"],
        ):
            done = subprocess.run(
                args, env=env, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300
            )
            assert done.returncode == 0, done.stdout + done.stderr
        stack.council("refresh-forms", "--api", stack.api_url)
        assert _registered(stack) == ours
    finally:
        stack.stop()
        assert stack.kill_leftovers() == []
