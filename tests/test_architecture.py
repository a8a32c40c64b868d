"""The layers of DESIGN.md §5 hold: no import cycle between any two modules, and import-linter's
contract (what `make lint` runs) fails on an import against the direction."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import grimp
import pytest

from council.config import PROJECT_ROOT

PACKAGES = ("council", "flows", "models")


def _cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    modules = sorted(graph.modules)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for root in modules:
        if root in index:
            continue
        work = [(root, iter(sorted(graph.find_modules_directly_imported_by(root))))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.find_modules_directly_imported_by(child)))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))
    return found


def test_no_import_cycle_between_any_two_modules() -> None:
    """Every import in council/, flows/ and models/ (function-level ones included) forms no cycle."""
    graph = grimp.build_graph(*PACKAGES, cache_dir=None)
    assert _cycles(graph) == []


def test_cycle_finder_finds_a_planted_cycle() -> None:
    """The cycle check is not vacuous: two modules importing each other are reported."""
    graph = grimp.ImportGraph()
    for name in ("pkg", "pkg.a", "pkg.b", "pkg.c"):
        graph.add_module(name)
    graph.add_import(importer="pkg.a", imported="pkg.b")
    graph.add_import(importer="pkg.b", imported="pkg.a")
    graph.add_import(importer="pkg.c", imported="pkg.a")
    assert _cycles(graph) == [["pkg.a", "pkg.b"]]


@pytest.mark.parametrize(
    ("module", "line"),
    [
        ("council/rules/calendar.py", "from council.services import send  # noqa: F401\n"),
        ("models/enums.py", "import council.config  # noqa: F401\n"),
        ("council/store/outbox.py", "from council.dashboard import build  # noqa: F401\n"),
        ("council/services/bulk.py", "from council.cli.commands import app  # noqa: F401\n"),
    ],
    ids=["rules-import-services", "models-import-council", "store-import-dashboard", "service-import-cli"],
)
def test_lint_imports_fails_on_an_import_against_the_layers(tmp_path: Path, module: str, line: str) -> None:
    """A copy of the code with one forbidden import added fails `lint-imports`; the unchanged copy passes."""
    for package in (*PACKAGES, "pyproject.toml"):
        source = PROJECT_ROOT / package
        if source.is_dir():
            shutil.copytree(source, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(source, tmp_path / package)
    lint = Path(sys.executable).parent / "lint-imports"

    def run() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(lint), "--no-cache"],
            cwd=tmp_path,
            env={"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    clean = run()
    assert clean.returncode == 0, clean.stdout + clean.stderr
    with (tmp_path / module).open("a", encoding="utf-8") as handle:
        handle.write(line)
    broken = run()
    assert broken.returncode == 1, broken.stdout + broken.stderr
    assert "BROKEN" in broken.stdout
