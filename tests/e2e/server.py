"""Start the real Parvis web console on a free local port for browser tests, and stop it (through
console/bench/serving.py, the one launcher that `bench ui` and scripts/footprint.py use too)."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from console.bench import serving
from console.bench.serving import free_port

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]

__all__ = ["CHROMIUM", "CHROMIUM_ARGS", "ROOT", "console_server", "free_port", "parvis_up"]


@contextmanager
def console_server(db_path: Path, *, extra_env: dict[str, str] | None = None,
                   app: Path = ROOT / "streamlit_app.py", port: int | None = None,
                   options: tuple[str, ...] = ()) -> Iterator[str]:
    """Run `streamlit run streamlit_app.py` (or another ``app``) against ``db_path``; yield its base URL.

    Pages run in the open demo mode (``PARVIS_AUTH=open``: agents picked in the sidebar) unless ``extra_env``
    says otherwise; ``options`` are more `streamlit run` options (e.g. ``--secrets.files``)."""
    port = port or free_port()
    env = {**os.environ, "PARVIS_AUTH": "open", "PARVIS_DB": str(db_path), "PARVIS_DATA_DIR": str(db_path.parent),
           **(extra_env or {})}
    command = [sys.executable, "-m", "streamlit", "run", str(app), "--server.headless", "true",
               "--server.port", str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false",
               *options]
    url = f"http://127.0.0.1:{port}"
    with serving.started(command, env, db_path.parent / "streamlit.log", f"{url}/_stcore/health", cwd=ROOT,
                         timeout_s=60, stop_s=15, name="streamlit"):
        yield url


@contextmanager
def parvis_up(db_path: Path, *, command: list[str] | None = None, worker: bool = False, cwd: Path | None = None,
              extra_env: dict[str, str] | None = None, ready_path: str = "/healthz",
              base_env: dict[str, str] | None = None) -> Iterator[str]:
    """Run `python -m console up` (or ``command``, e.g. an installed `parvis`) on a free port against ``db_path``
    until ``ready_path`` answers 200; yield its base URL; SIGTERM it at the end."""
    env = {**(os.environ if base_env is None else base_env), "PARVIS_DB": str(db_path),
           "PARVIS_DATA_DIR": str(db_path.parent), **(extra_env or {})}
    with serving.parvis_up(env, db_path.parent / "parvis-up.log", worker=worker, probe=ready_path, timeout_s=90,
                           stop_s=30, program=command, cwd=cwd or ROOT) as (url, _):
        yield url
