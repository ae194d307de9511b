"""Start the real Parvis web console on a free local port for browser tests, and stop it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


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
    log = open(db_path.parent / "streamlit.log", "w")  # noqa: SIM115
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(app), "--server.headless", "true",
         "--server.port", str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false",
         *options],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                    if r.read() == b"ok":
                        break
            except OSError:
                time.sleep(0.3)
            if proc.poll() is not None:
                raise RuntimeError(f"streamlit exited: {(db_path.parent / 'streamlit.log').read_text()}")
        else:
            raise RuntimeError("streamlit did not become healthy in 60 s")
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
