"""``python -m console bench ui`` end to end at a small size: the real console, Debian's Chromium, rows clicked and
tags added (issue #17). Asserts what happened, never how fast."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from core.db import open_db
from services.inbox import triage as inbox
from tests.e2e.server import CHROMIUM, ROOT

pytestmark = pytest.mark.e2e

KEYS = ("click_detail_p50_ms", "click_detail_p95_ms", "click_result_p50_ms", "click_result_p95_ms")


def test_bench_ui_clicks_rows_and_tags_them(tmp_path):
    pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} missing: run `make browser` (installs Debian's chromium)")
    db_path = tmp_path / "data" / "parvis.db"
    out = subprocess.run(
        [sys.executable, "-m", "console", "bench", "ui", "--json", "--mentions", "2000", "--clicks", "3",
         "--db", str(db_path)],
        cwd=ROOT, env={**os.environ, "HF_HUB_OFFLINE": "1"}, capture_output=True, text=True, timeout=900)
    assert out.returncode == 0, out.stderr[-4000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["n_mentions"] == 2000 and result["clicks"] == 3
    assert all(isinstance(result[k], float) and result[k] > 0 for k in KEYS)
    assert result["click_detail_p50_ms"] <= result["click_detail_p95_ms"]
    assert len(result["loadavg_start"]) == 3 and len(result["loadavg_end"]) == 3
    db = open_db(db_path)
    try:  # the warm-up and the three timed actions really tagged messages, through the console
        tags = [t for t in inbox.all_tags(db) if t.startswith("bench-")]
    finally:
        db.close()
    assert len(tags) == 4
