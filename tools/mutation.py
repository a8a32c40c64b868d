"""Mutation testing (`make mutation`): each critical module against its own test files, with mutmut.

For every module below, a scratch copy of the project is made under ``.tools/mutation/<name>/``
with a ``[tool.mutmut]`` section that mutates only that file and selects only its test files, and
``mutmut run`` is started there (mutmut 3 writes its ``mutants/`` folder in the current directory;
the working tree is never touched). mutmut mutates code inside functions only, so a short list of
hand-written mutants of the module-level constants (the lease, the attempt limit, the backoff, the
transition table, the open statuses) is run too, each against the same test files.

Prints caught/total per module (caught = killed or timed out) and lists every mutant not caught.
Database tests run on SQLite only here (the PostgreSQL variants test the same code paths).

    python tools/mutation.py [outbox calendar transitions reminders]
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / ".tools" / "mutation"
COPY = ["council", "models", "tests", "migrations", "data", "templates", "alembic.ini", "pyproject.toml"]
PYTEST_ARGS = ["-p", "no:cacheprovider", "-q", "-x", "-k", "not postgresql"]


@dataclass
class Module:
    source: str
    tests: list[str]
    #: Hand-written mutants of module-level code (old text, new text), each must fail the tests.
    constants: list[tuple[str, str]] = field(default_factory=list)


MODULES: dict[str, Module] = {
    "outbox": Module(
        "council/store/outbox.py",
        ["tests/test_outbox.py"],
        [
            ("MAX_ATTEMPTS = 5", "MAX_ATTEMPTS = 4"),
            ("MAX_ATTEMPTS = 5", "MAX_ATTEMPTS = 6"),
            ("SENDING_LEASE = timedelta(minutes=15)", "SENDING_LEASE = timedelta(minutes=1)"),
            ("SENDING_LEASE = timedelta(minutes=15)", "SENDING_LEASE = timedelta(minutes=16)"),
            ("BACKOFF_BASE = timedelta(minutes=10)", "BACKOFF_BASE = timedelta(minutes=5)"),
            ("BACKOFF_MAX = timedelta(hours=12)", "BACKOFF_MAX = timedelta(hours=24)"),
            ("BACKOFF_MAX = timedelta(hours=12)", "BACKOFF_MAX = timedelta(hours=11)"),
        ],
    ),
    "calendar": Module(
        "council/rules/calendar.py",
        ["tests/test_calendar.py"],
        [("Finland(years=year)", "Finland(years=year - 1)")],
    ),
    "transitions": Module(
        "council/rules/transitions.py",
        ["tests/test_transitions.py"],
        [
            ("S.not_sent: frozenset({S.sent})", "S.not_sent: frozenset({S.sent, S.decided})"),
            (
                "S.sent: frozenset({S.reminded, S.on_agenda, S.decided})",
                "S.sent: frozenset({S.reminded, S.on_agenda})",
            ),
            ("S.decided: frozenset({S.decided})", "S.decided: frozenset({S.decided, S.on_agenda})"),
            ("S.final: frozenset()", "S.final: frozenset({S.decided})"),
        ],
    ),
    "reminders": Module(
        "council/rules/reminders.py",
        ["tests/test_reminders.py"],
        [
            (
                "OPEN = (DecisionStatus.sent.value, DecisionStatus.reminded.value, DecisionStatus.on_agenda.value)",
                "OPEN = (DecisionStatus.sent.value, DecisionStatus.reminded.value)",
            ),
            (
                "OPEN = (DecisionStatus.sent.value, DecisionStatus.reminded.value, DecisionStatus.on_agenda.value)",
                "OPEN = (DecisionStatus.sent.value, DecisionStatus.reminded.value, DecisionStatus.on_agenda.value,"
                " DecisionStatus.decided.value)",
            ),
        ],
    ),
}

CAUGHT = {"killed", "timeout", "caught by type check"}


def _toml_list(items: list[str]) -> str:
    return "[" + ", ".join(f'"{i}"' for i in items) + "]"


def prepare(name: str, module: Module) -> Path:
    """A fresh scratch copy of the project whose pyproject tells mutmut what to mutate and test."""
    work = WORK / name
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for item in COPY:
        src = ROOT / item
        if src.is_dir():
            shutil.copytree(src, work / item, ignore=ignore)
        else:
            shutil.copy2(src, work / item)
    pyproject = work / "pyproject.toml"
    text = pyproject.read_text(encoding="utf-8")
    text = re.sub(r"\n\[tool\.mutmut\][^\[]*", "\n", text)
    text += (
        "\n[tool.mutmut]\n"
        'source_paths = ["council"]\n'
        f"only_mutate = {_toml_list([module.source])}\n"
        f"also_copy = {_toml_list(['models', 'migrations', 'data', 'templates', 'alembic.ini'])}\n"
        f"pytest_add_cli_args = {_toml_list(PYTEST_ARGS)}\n"
        f"pytest_add_cli_args_test_selection = {_toml_list(module.tests)}\n"
        "use_git_change_detection = false\n"
    )
    pyproject.write_text(text, encoding="utf-8")
    return work


def _env() -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("COUNCIL_") or k == "COUNCIL_TEST_POSTGRES_URL"
    }
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def run_mutmut(work: Path) -> dict[str, str]:
    """Run mutmut in ``work``; mutant name -> status."""
    mutmut = str(Path(sys.executable).with_name("mutmut"))
    children = str(max(1, (os.cpu_count() or 2)))
    log = work / "mutmut-run.log"
    with log.open("w") as out:
        subprocess.run(
            [mutmut, "run", "--max-children", children], cwd=work, env=_env(), stdout=out, stderr=out
        )
    listed = subprocess.run(
        [mutmut, "results", "--all", "true"], cwd=work, env=_env(), capture_output=True, text=True
    )
    statuses = {}
    for line in listed.stdout.splitlines():
        key, sep, status = line.strip().rpartition(": ")
        if sep and "__mutmut_" in key:
            statuses[key] = status
    return statuses


def run_constants(work: Path, module: Module) -> dict[str, bool]:
    """Apply each hand-written mutant to the scratch copy in turn; description -> caught."""
    source = work / module.source
    original = source.read_text(encoding="utf-8")
    caught = {}
    for old, new in module.constants:
        if old not in original:
            raise SystemExit(f"{module.source}: the text of a constant mutant is no longer there: {old!r}")
        source.write_text(original.replace(old, new, 1), encoding="utf-8")
        result = subprocess.run(
            [sys.executable, "-m", "pytest", *PYTEST_ARGS, *module.tests],
            cwd=work,
            env={**_env(), "PYTHONPATH": str(work)},
            capture_output=True,
        )
        caught[f"{old} -> {new}"] = result.returncode != 0
    source.write_text(original, encoding="utf-8")
    return caught


def main(names: list[str]) -> int:
    rows = []
    for name in names or list(MODULES):
        module = MODULES[name]
        print(f"== {name}: {module.source} against {' '.join(module.tests)}", flush=True)
        work = prepare(name, module)
        statuses = run_mutmut(work)
        constants = run_constants(work, module)
        caught = sum(status in CAUGHT for status in statuses.values())
        for key, status in sorted(statuses.items()):
            if status not in CAUGHT:
                print(f"   {status:>10}  {key}   (mutmut show {key}, in {work.relative_to(ROOT)})")
        for description, was_caught in constants.items():
            if not was_caught:
                print(f"   {'survived':>10}  constant: {description}")
        const_caught = sum(constants.values())
        rows.append((name, caught, len(statuses), const_caught, len(constants)))
    print("\nmodule        mutmut caught/total   constants caught/total   all")
    for name, caught, total, c_caught, c_total in rows:
        all_caught, all_total = caught + c_caught, total + c_total
        share = 100 * all_caught / all_total if all_total else 0.0
        print(
            f"{name:<13} {caught:>6}/{total:<6}         {c_caught:>5}/{c_total:<5}"
            f"                {all_caught}/{all_total} ({share:.1f} %)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
