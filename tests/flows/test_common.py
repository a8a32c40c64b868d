"""flows/common.py: importing a flow reads no content file; the forms' choices are written into the
deployments' schemas from the content as it is when `council run` (or `council refresh-forms`) runs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from council.config import PROJECT_ROOT

FLOW_MODULES = [
    "flows.send_proposal",
    "flows.record_decision",
    "flows.mark_agenda",
    "flows.import_decisions",
    "flows.follow_up",
    "flows.committee",
]

SCRIPT = """
import builtins, json, sys
from pathlib import Path
opened = []
real_open = builtins.open
def spy(file, *args, **kwargs):
    opened.append(str(file))
    return real_open(file, *args, **kwargs)
builtins.open = spy
real_path_open = Path.open
def path_spy(self, *args, **kwargs):
    opened.append(str(self))
    return real_path_open(self, *args, **kwargs)
Path.open = path_spy  # read_text and read_bytes open through it
for name in sys.argv[1:]:
    __import__(name)
builtins.open, Path.open = real_open, real_path_open
from flows.record_decision import RecordDecisionIn
schema = RecordDecisionIn.model_json_schema()
print(json.dumps({"body": schema["properties"]["vastaanottaja"],
                  "content_read": [f for f in opened if "site-packages" not in f and ("/data/" in f or f.endswith(".yaml"))]}, ensure_ascii=False))
"""


def _import_flows(tmp_path: Path, roster: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COUNCIL_")}
    env.update(COUNCIL_ROSTER_FILE=str(roster), COUNCIL_OUTPUTS_DIR=str(tmp_path / "outputs"))
    return subprocess.run(
        [sys.executable, "-c", SCRIPT, *FLOW_MODULES],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_importing_the_flows_reads_no_content_file(tmp_path: Path) -> None:
    """With a roster that is not even valid YAML every flow module imports, and no content file is
    opened: the body field is text marked for its choices, without an enum of its own."""
    roster = tmp_path / "roster.yaml"
    roster.write_text("bodies: [\n  - id: forssa\n", encoding="utf-8")
    result = _import_flows(tmp_path, roster)
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout.strip().splitlines()[-1])
    assert found["content_read"] == []
    assert found["body"]["type"] == "string" and "enum" not in found["body"]
    assert found["body"]["x-council-choices"] == "bodies"


def test_the_engine_repeat_of_a_refusal_is_dropped_but_other_failures_keep_their_traceback() -> None:
    """A worker's engine logs a failed run's message again with a traceback; for a refusal (already
    logged as a WARNING paragraph) that record is dropped, for any other failure it stays."""
    import logging

    from prefect.exceptions import FailedRun

    import flows.common  # noqa: F401 - installs the filter
    from models.results import Refusal

    logger = logging.getLogger("prefect.flow_runs")
    refusal = Refusal(what_happened="Kokouspäivä on tulevaisuudessa.", what_to_do="Korjaa päivä.")

    def record(error: Exception) -> logging.LogRecord:
        return logger.makeRecord(
            logger.name,
            logging.ERROR,
            __file__,
            1,
            "Engine execution exited",
            None,
            (type(error), error, None),
        )

    assert not logger.filter(record(FailedRun(refusal.message)))
    assert logger.filter(record(FailedRun("Osa viesteistä jäi lähettämättä")))
    assert logger.filter(record(RuntimeError(refusal.message)))
