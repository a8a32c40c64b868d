"""What every benchmark section shares: timing, ratios with goals, the machine, helper processes."""

from __future__ import annotations

import os
import platform
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path

from council.config import PROJECT_ROOT

PACKAGES = (
    "docxtpl",
    "python-docx",
    "jinja2",
    "lxml",
    "prefect",
    "sqlalchemy",
    "pydantic",
    "yagmail",
    "aiosmtpd",
)


@dataclass
class Ratio:
    """One figure: ``value`` = measured / baseline (or its inverse), judged against ``goal``."""

    name: str
    value: float
    goal: str  # "<= 2.0" or ">= 4.0" or "== 1"
    meaning: str = ""
    cpu_value: float | None = None  # the same ratio from CPU time (process_time), for reference

    @property
    def passed(self) -> bool:
        op, limit = self.goal.split()
        return {
            "<": self.value < float(limit),
            "<=": self.value <= float(limit),
            ">=": self.value >= float(limit),
            "==": self.value == float(limit),
        }[op]

    def as_dict(self) -> dict:
        return {**asdict(self), "pass": self.passed}

    def line(self) -> str:
        verdict = "PASS" if self.passed else "MISS"
        cpu = f"   (CPU time: {self.cpu_value:.2f})" if self.cpu_value is not None else ""
        return f"  {self.name:<34} {self.value:>8.2f}   goal {self.goal:<7} {verdict}{cpu}"


@dataclass
class Section:
    name: str
    title: str
    measurements: dict[str, dict] = field(default_factory=dict)
    ratios: list[Ratio] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    details: dict = field(default_factory=dict)
    seconds: float = 0.0

    def measure(self, key: str, label: str, value: float, unit: str, **extra: object) -> None:
        self.measurements[key] = {"label": label, "value": value, "unit": unit, **extra}

    def as_dict(self) -> dict:
        return {
            "title": self.title,
            "measurements": self.measurements,
            "ratios": [r.as_dict() for r in self.ratios],
            "notes": self.notes,
            "details": self.details,
            "seconds": round(self.seconds, 1),
        }

    def print(self) -> None:
        print(f"\n== {self.name}: {self.title}")
        for m in self.measurements.values():
            print(f"  {m['label']:<52} {_fmt(m['value']):>10} {m['unit']}")
        for r in self.ratios:
            print(r.line())
        for note in self.notes:
            print(f"  note: {note}")
        print(f"  ({self.seconds:.0f} s)")


def _fmt(value: float) -> str:
    if isinstance(value, int) or float(value).is_integer() and abs(value) >= 100:
        return f"{value:,.0f}".replace(",", " ")
    return f"{value:.3f}" if abs(value) < 10 else f"{value:.1f}"


def interleaved(
    fns: dict[str, Callable[[], object]], repeats: int, cpu: dict[str, list[float]] | None = None
) -> dict[str, list[float]]:
    """Wall time (perf_counter) of each function ``repeats`` times, round-robin, so drift (CPU boost,
    caches, other load) hits all alike. With ``cpu``, this process's CPU time (process_time) of each
    call is collected there too: a cross-check that other processes on the machine cannot inflate."""
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            cpu_start = time.process_time()
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
            if cpu is not None:
                cpu.setdefault(name, []).append(time.process_time() - cpu_start)
    return times


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine() -> dict:
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count() or 0
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "usable_cores": usable,
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "sqlite": sqlite3.sqlite_version,
        "packages": versions,
    }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_port(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            sock.settimeout(0.5)
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"port {port} did not open in {timeout:.0f} s")


@contextmanager
def smtp_server_process(folder: Path) -> Iterator[int]:
    """The project's aiosmtpd server (council.smtpd.LocalSmtpServer) in its own process.

    A separate process, as in production (``council smtp-server``): the server does not compete
    with the measured client for the GIL. Yields the port; the .eml files land in ``folder``.
    """
    port = free_port()
    folder.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.smtp_server", str(port), str(folder)],
        cwd=PROJECT_ROOT,
        env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)},
        stdin=subprocess.PIPE,
    )
    try:
        wait_port(port)
        yield port
    finally:
        if proc.stdin:
            proc.stdin.close()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=10)
