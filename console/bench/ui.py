"""``python -m console bench ui``: click→detail and click→result in the inbox, in Chromium (issue #17).

1. A fresh database of N mentions, built as ``bench storage`` builds it (the demo generator's bulk mode: a city's
   year of history, a third closed by the team, five community managers).
2. The real console, ``python -m console up --no-worker``, on a free port of 127.0.0.1, in open mode (the first
   community manager is the agent, as the sidebar picks him).
3. Debian's Chromium driven by Playwright, as the browser tests drive it (``/usr/bin/chromium``, never
   ``playwright install``), at 1400×1500 (the whole table below the open filters): the inbox (default filters:
   open messages by priority).
4. One untimed warm-up, then ``clicks`` times:

   - **click→detail**: click a row of the list → the detail pane shows that message's text (the expected text
     comes from the same query the page runs, read from the database before the browser starts);
   - **click→result**: type a new tag (``bench-<run>-K``) in « Ajouter une étiquette » and press Enter → the
     confirmation « Étiquette « … » ajoutée. » and the tag in the detail's caption are both shown.

Prints p50/p95 of each, the number of mentions and the load average before and after: the timings depend on the
machine's load (a shared 2-core machine in BENCHMARKS.md). Asserts nothing.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from console.bench.serving import parvis_up
from console.bench.stats import percentile
from core.db import open_db
from core.settings_schema import AuthSettings, OperationsSettings, PathSettings
from services.accounts import users
from services.inbox import triage as inbox

CHROMIUM = "/usr/bin/chromium"  # Debian's package (`make browser`), as tests/e2e/server.py
CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
VIEWPORT = {"width": 1400, "height": 1500}  # tall enough for the whole table below the filters
ROW_HEADER_PX, ROW_PX = 35, 35  # st.dataframe's header and row heights
VISIBLE_ROWS = 14  # of the 560-px table, fully visible without scrolling
WAIT_MS = 120_000


def _load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def build_database(db_path: Path, mentions: int) -> None:
    """The storage benchmark's database (bulk history, synced tail, team work), in a subprocess-free call."""
    from console.bench import storage

    storage.run(mentions, db_path=db_path, queries=1)


def expected_texts(db_path: Path) -> list[str]:
    """The texts of the first page of the inbox as the first community manager sees it (default filters)."""
    db = open_db(db_path)
    try:
        agents = [a for a in users.list_agents(db) if str(a.role) == "community_manager"]
        viewer = agents[0] if agents else None
        result = inbox.list_items(db, inbox.InboxQuery(limit=50), viewer=viewer)
        return [it.mention.text for it in result.items]
    finally:
        db.close()


@contextmanager
def console_up(db_path: Path) -> Iterator[str]:
    """``python -m console up --no-worker`` on a free port in open mode; yields its URL once /healthz says 200."""
    env = {**os.environ, PathSettings.key("db"): str(db_path), PathSettings.key("data_dir"): str(db_path.parent),
           AuthSettings.key("mode"): "open", OperationsSettings.key("backup_interval_h"): "0",
           "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    with parvis_up(env, db_path.parent / "bench-ui-up.log", worker=False) as (url, _):
        yield url


def _exact(text: str) -> re.Pattern[str]:
    return re.compile("^" + re.escape(text.strip()) + "$")


class _Inbox:
    """The inbox page in Chromium: click rows, tag the open message."""

    def __init__(self, page: Any, texts: list[str]) -> None:
        self.page, self.texts = page, texts
        self.row = -1

    def _shown(self, text: str) -> Any:
        return self.page.locator("[data-testid='stText']").filter(has_text=_exact(text))

    def _next_row(self) -> int:
        """The next row (never the one open: clicking it again would unselect it) whose text is not already on the
        screen (the generator reuses texts), so that its appearance means the new detail is shown."""
        n = min(VISIBLE_ROWS, len(self.texts))
        for step in range(1, n + 1):
            row = (self.row + step) % n
            if row != self.row and self._shown(self.texts[row]).count() == 0:
                return row
        raise RuntimeError("no row with a text not already shown")

    def open_next(self) -> float:
        """Click the next row; seconds until its text shows in the detail pane."""
        grid = self.page.locator("[data-testid='stDataFrame']").first
        grid.scroll_into_view_if_needed()
        box = grid.bounding_box()
        if box["y"] + ROW_HEADER_PX + ROW_PX * min(VISIBLE_ROWS, len(self.texts)) > VIEWPORT["height"]:
            raise RuntimeError("the table's rows do not fit in the window")
        row = self._next_row()
        x, y = box["x"] + 12, box["y"] + ROW_HEADER_PX + ROW_PX // 2 + ROW_PX * row
        start = time.perf_counter()
        self.page.mouse.click(x, y)
        self._shown(self.texts[row]).first.wait_for(state="visible", timeout=WAIT_MS)
        elapsed = time.perf_counter() - start
        self.row = row
        self.settle()
        return elapsed

    def settle(self) -> None:
        """Wait until the run is over (a fragment's too: Streamlit's ``data-test-script-state``) and no element of
        the previous run is left on the screen (``data-stale``), so that the next action starts on an idle page and
        finds one field, not its old copy."""
        self.page.locator("[data-testid='stApp'][data-test-script-state='notRunning']").wait_for(timeout=WAIT_MS)
        self.page.locator("[data-stale='true']").first.wait_for(state="detached", timeout=WAIT_MS)

    def tag(self, label: str) -> float:
        """Add the tag ``label`` to the open message; seconds until the confirmation and the tag are shown."""
        field = self.page.get_by_label("Ajouter une étiquette")
        field.fill(label)
        start = time.perf_counter()
        field.press("Enter")
        self.page.get_by_text(f"Étiquette « {label} » ajoutée.").first.wait_for(state="visible", timeout=WAIT_MS)
        self.page.locator("[data-testid='stCaptionContainer']").filter(
            has_text=re.compile(r"Étiquettes : .*\b" + re.escape(label) + r"\b")).first.wait_for(
            state="visible", timeout=WAIT_MS)
        elapsed = time.perf_counter() - start
        self.settle()
        return elapsed


def measure(url: str, texts: list[str], clicks: int, *, shots: Path | None = None) -> dict[str, list[float]]:
    """Drive the inbox: one untimed warm-up, then ``clicks`` × (click→detail, click→result), in ms. On a failure,
    a screenshot goes to ``shots`` (a folder) when given."""
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        raise RuntimeError(f"{CHROMIUM} missing: run `make browser` (installs Debian's chromium)")
    detail_ms: list[float] = []
    result_ms: list[float] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_context(viewport=VIEWPORT).new_page()  # type: ignore[arg-type]
            page.goto(url, wait_until="domcontentloaded")
            page.locator("[data-testid='stDataFrame']").first.wait_for(timeout=WAIT_MS)
            page.get_by_text("message(s)").first.wait_for(timeout=WAIT_MS)
            ui = _Inbox(page, texts)
            run_id = int(time.time()) % 100_000  # new tags on every run, also on a database kept with --db
            ui.open_next()  # warm-up, untimed
            ui.tag(f"bench-{run_id}-0")
            for k in range(1, clicks + 1):
                detail_ms.append(ui.open_next() * 1000)
                result_ms.append(ui.tag(f"bench-{run_id}-{k}") * 1000)
        except Exception:
            if shots is not None:
                page.screenshot(path=str(shots / "bench-ui-failure.png"), full_page=True)
            raise
        finally:
            browser.close()
    return {"detail": detail_ms, "result": result_ms}


def run(mentions: int = 100_000, clicks: int = 30, *, db_path: Path | None = None) -> dict[str, Any]:
    """Build the database (or use ``db_path`` when it exists), start the console, measure; the JSON-able result."""
    load_start = _load()
    tmp = None
    if db_path is None:
        tmp = tempfile.mkdtemp(prefix="parvis-bench-ui-")
        db_path = Path(tmp) / "parvis.db"
    try:
        built_s = None
        if not db_path.exists():
            began = time.perf_counter()
            build_database(db_path, mentions)
            built_s = round(time.perf_counter() - began, 1)
        texts = expected_texts(db_path)
        if len(texts) < 3:
            raise RuntimeError("the inbox shows fewer than 3 messages: nothing to click")
        db = open_db(db_path)
        try:
            from core import repo

            total = repo.mention_count(db)
        finally:
            db.close()
        load_measure = _load()
        with console_up(db_path) as url:
            times = measure(url, texts, clicks, shots=None if tmp else db_path.parent)
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)

    def r(v: float | None) -> float | None:
        return None if v is None else round(v, 1)

    return {
        "click_detail_p50_ms": r(percentile(times["detail"], 0.50)),
        "click_detail_p95_ms": r(percentile(times["detail"], 0.95)),
        "click_detail_max_ms": r(max(times["detail"], default=None)),
        "click_result_p50_ms": r(percentile(times["result"], 0.50)),
        "click_result_p95_ms": r(percentile(times["result"], 0.95)),
        "click_result_max_ms": r(max(times["result"], default=None)),
        "n_mentions": total,
        "clicks": len(times["detail"]),
        "db_build_s": built_s,
        "loadavg_start": load_start,
        "loadavg_measure_start": load_measure,
        "loadavg_end": _load(),
        "cpus": os.cpu_count(),
    }
