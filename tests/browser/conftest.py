"""Debian's Chromium under Playwright, shared by the browser tests, and axe-core for the accessibility
checks (installed from the npm registry once into a cache folder, never loaded from a CDN)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser.prefect_stack import CouncilStack
from tests.conftest import IN_CI

CHROMIUM = Path("/usr/bin/chromium")
#: Without the background-networking flags Chromium keeps trying to reach Google's hosts, which this
#: machine's closed network refuses.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def chromium() -> Iterator[object]:
    """Debian's Chromium under Playwright; skipped when missing, a failure under CI=true."""
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} puuttuu (apt-get install chromium)"
        if IN_CI:
            pytest.fail(reason + " — CI=true vaatii sen")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


#: The axe-core major version the accessibility tests run (npm's ``axe-core@4``).
AXE_SPEC = "axe-core@4"


def _axe_cache() -> Path:
    """Where npm installs axe-core: COUNCIL_TEST_CACHE, else $XDG_CACHE_HOME or ~/.cache, /council-tests/axe."""
    base = (
        os.environ.get("COUNCIL_TEST_CACHE")
        or os.environ.get("XDG_CACHE_HOME")
        or str(Path.home() / ".cache")
    )
    return Path(base) / "council-tests" / "axe"


def _unavailable(reason: str) -> None:
    if IN_CI:
        pytest.fail(reason + " — CI=true vaatii sen")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def axe_source() -> str:
    """axe-core's browser bundle (axe.min.js): `npm install axe-core@4` into the cache folder on first use."""
    folder = _axe_cache()
    package = folder / "node_modules" / "axe-core"
    bundle = package / "axe.min.js"
    if not bundle.is_file():
        npm = shutil.which("npm")
        if npm is None:
            _unavailable("npm puuttuu (apt-get install npm): axe-core asennetaan npm-rekisteristä")
        folder.mkdir(parents=True, exist_ok=True)
        try:
            subprocess.run(
                [npm, "install", "--prefix", str(folder), "--no-audit", "--no-fund", "--no-save", AXE_SPEC],
                check=True,
                capture_output=True,
                text=True,
                timeout=300,
            )
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
            output = getattr(exc, "stderr", "") or ""
            _unavailable(f"npm install {AXE_SPEC} epäonnistui: {output.strip()[-500:] or exc}")
    version = json.loads((package / "package.json").read_text(encoding="utf-8"))["version"]
    assert version.startswith("4."), f"{package}: odotettiin axe-core 4.x, löytyi {version}"
    return bundle.read_text(encoding="utf-8")


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[CouncilStack]:
    """`council init`, `council run --no-send` and `council send`: six bodies in state `sent`."""
    stack = CouncilStack(tmp_path / "council")
    try:
        stack.start()
        stack.council("send", "--today", "1.3.2021")
        yield stack
    finally:
        stack.stop()
        stack.kill_leftovers()  # a safety net only: the test itself asserts there were none
