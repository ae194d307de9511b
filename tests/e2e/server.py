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


@contextmanager
def parvis_up(db_path: Path, *, command: list[str] | None = None, worker: bool = False, cwd: Path | None = None,
              extra_env: dict[str, str] | None = None, ready_path: str = "/healthz",
              base_env: dict[str, str] | None = None) -> Iterator[str]:
    """Run `python -m console up` (or ``command``, e.g. an installed `parvis`) on a free port against ``db_path``
    until ``ready_path`` answers 200; yield its base URL; SIGTERM it at the end."""
    port = free_port()
    env = {**(os.environ if base_env is None else base_env), "PARVIS_DB": str(db_path),
           "PARVIS_DATA_DIR": str(db_path.parent), **(extra_env or {})}
    args = [*(command or [sys.executable, "-m", "console"]), "up", "--port", str(port)]
    if not worker:
        args.append("--no-worker")
    log_path = db_path.parent / "parvis-up.log"
    log = open(log_path, "w")  # noqa: SIM115
    proc = subprocess.Popen(args, cwd=cwd or ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{url}{ready_path}", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                time.sleep(0.3)
            if proc.poll() is not None:
                raise RuntimeError(f"parvis up exited: {log_path.read_text()}")
        else:
            raise RuntimeError(f"parvis up: {ready_path} not 200 in 90 s: {log_path.read_text()}")
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
