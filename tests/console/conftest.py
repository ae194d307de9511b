"""Console page tests run the open demo mode (agents picked in the sidebar), which Parvis no longer enters by
accident (issue #15): say so explicitly. Sign-in tests remove or override ``PARVIS_AUTH``."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _open_demo_mode(monkeypatch):
    monkeypatch.setenv("PARVIS_AUTH", "open")
