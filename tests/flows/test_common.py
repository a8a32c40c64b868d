"""flows/common.py: a content file that does not load leaves the forms with free-text fields instead
of stopping every flow from importing."""

from __future__ import annotations

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
import json, sys
import flows.common as common
from flows.record_decision import RecordDecisionIn
for name in sys.argv[1:]:
    __import__(name)
schema = RecordDecisionIn.model_json_schema()
body = schema["properties"]["vastaanottaja"]
print(json.dumps({"names": list(common.BODY_NAMES), "type": body.get("type"), "enum": body.get("enum")}, ensure_ascii=False))
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


def test_every_flow_imports_with_a_broken_roster(tmp_path: Path) -> None:
    """With a roster that is not valid YAML, every flow module still imports; the body field is free
    text and the warning names the problem in Finnish."""
    roster = tmp_path / "roster.yaml"
    roster.write_text("bodies: [\n  - id: forssa\n", encoding="utf-8")
    result = _import_flows(tmp_path, roster)
    assert result.returncode == 0, result.stderr
    assert '"names": []' in result.stdout
    assert '"type": "string", "enum": null' in result.stdout
    assert "Lomakkeiden valintalistoja ei voitu lukea" in result.stderr
    assert str(roster) in result.stderr


def test_the_shipped_roster_gives_the_dropdown(tmp_path: Path) -> None:
    """With the shipped roster the body field is a dropdown of the six official names."""
    result = _import_flows(tmp_path, PROJECT_ROOT / "data" / "rosters" / "forssan-seutu.yaml")
    assert result.returncode == 0, result.stderr
    assert '"enum": ["Forssan kaupunki", "Humppilan kunta", "Jokioisten kunta"' in result.stdout


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
