"""Browser fixture shared by the end-to-end tests: Debian's Chromium driven by Playwright (never
`playwright install`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.server import CHROMIUM, CHROMIUM_ARGS


@pytest.fixture(scope="module")
def browser():
    """A headless Chromium for the module's tests."""
    playwright = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} missing: run `make browser` (installs Debian's chromium)")
    with playwright.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()
