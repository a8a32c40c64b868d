"""Debian's Chromium under Playwright, shared by the browser tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

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
