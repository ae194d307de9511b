"""Memory and disk of a Parvis server for N mentions (docs/deploy.md's hardware table; BENCHMARKS.md).

    .venv/bin/python scripts/footprint.py --mentions 100000 [--sessions 3] > footprint.json

1. `python -m console bench storage --mentions N --db DIR/parvis.db` builds the database as the storage benchmark
   does (a city's history: bulk-loaded, the last tenth as syncs bring it, a third closed by the team).
2. `python -m console up` (server + worker) on it; once /readyz says ready, Debian's Chromium opens ``--sessions``
   console sessions (inbox, then dashboard, each kept open) and /metrics is scraped.
3. Prints one JSON object: the resident memory (VmRSS now, VmHWM peak) of the server and of the worker, the
   database file and WAL, one backup (`parvis backup`), and the whole data directory.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from console.bench.serving import parvis_up  # noqa: E402 - the checkout's root, as scripts/toxicity_ft does

CHROMIUM = "/usr/bin/chromium"


def _mem_mb(pid: int) -> dict[str, float]:
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = round(int(value.split()[0]) / 1024, 1)
    return {"rss_mb": fields["VmRSS"], "peak_rss_mb": fields["VmHWM"]}


def _size_mb(path: Path) -> float:
    if path.is_file():
        return round(path.stat().st_size / 1e6, 1)
    return round(sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 1e6, 1)


def _browse(url: str, sessions: int) -> list:  # type: ignore[type-arg]
    from playwright.sync_api import sync_playwright

    p = sync_playwright().start()
    browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu"])
    pages = []
    for _ in range(sessions):
        page = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
        page.goto(url, wait_until="domcontentloaded")
        page.get_by_text("message(s)").first.wait_for(timeout=120_000)
        page.goto(f"{url}/tableau-de-bord", wait_until="domcontentloaded")
        page.locator(".vega-embed canvas, .vega-embed svg").first.wait_for(timeout=120_000)
        pages.append(page)
    return [p, browser, pages]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mentions", type=int, default=100_000)
    parser.add_argument("--sessions", type=int, default=3)
    parser.add_argument("--keep", type=Path, default=None, help="Build the data directory here and keep it.")
    args = parser.parse_args()
    tmp = None if args.keep else tempfile.TemporaryDirectory(prefix="parvis-footprint-")
    data = args.keep or Path(tmp.name) / "data"  # type: ignore[union-attr]
    data.mkdir(parents=True, exist_ok=True)
    db_path = data / "parvis.db"
    env = {**os.environ, "PARVIS_DATA_DIR": str(data), "PARVIS_DB": str(db_path), "PARVIS_AUTH": "open",
           "PARVIS_BACKUP_INTERVAL_H": "0", "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    py = [sys.executable, "-m", "console"]
    subprocess.run([*py, "bench", "storage", "--mentions", str(args.mentions), "--queries", "5", "--json",
                    "--db", str(db_path)], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
    with parvis_up(env, data.parent / "footprint-up.log", probe="/readyz", stop_s=60) as (url, proc):
        idle_server = _mem_mb(proc.pid)
        held = _browse(url, args.sessions)
        with urllib.request.urlopen(f"{url}/metrics", timeout=30) as r:
            r.read()
        time.sleep(2)
        (worker,) = [int(p) for p in Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()]
        result = {
            "mentions": args.mentions,
            "sessions": args.sessions,
            "server_idle": idle_server,
            "server": _mem_mb(proc.pid),
            "worker": _mem_mb(worker),
        }
        held[0].stop()
    subprocess.run([*py, "backup"], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
    backups = sorted((data / "backups").glob("*.db"))
    result.update({
        "database_mb": _size_mb(db_path),
        "wal_mb": _size_mb(db_path.with_name(db_path.name + "-wal")) if db_path.with_name(
            db_path.name + "-wal").exists() else 0.0,
        "backup_mb": _size_mb(backups[-1]) if backups else None,
        "data_dir_mb": _size_mb(data),
        "python": sys.version.split()[0],
        "cpus": os.cpu_count(),
    })
    print(json.dumps(result))
    if tmp is not None:
        shutil.rmtree(tmp.name, ignore_errors=True)


if __name__ == "__main__":
    main()
