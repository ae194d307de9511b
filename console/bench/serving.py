"""``python -m console up`` started for a measurement (``bench ui``, ``scripts/footprint.py``): a free port, its
output in a log file, the URL yielded once a probe route says 200, SIGTERM when done. Never imports Streamlit."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    """A TCP port free on the loopback now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def parvis_up(env: Mapping[str, str], log_path: Path, *, worker: bool = True, probe: str = "/healthz",
              timeout_s: float = 180, stop_s: float = 30) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """``python -m console up`` (``--no-worker`` unless ``worker``) on a free port with ``env``, its output in
    ``log_path``; yields (URL, process) once ``probe`` answers 200. RuntimeError, with the log's end, when it exits
    or is not up within ``timeout_s``. On leaving: SIGTERM, then a kill after ``stop_s``."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "console", "up", *([] if worker else ["--no-worker"]), "--port", str(port)]
    with log_path.open("w") as log:
        proc = subprocess.Popen(command, cwd=ROOT, env=dict(env), stdout=log, stderr=subprocess.STDOUT)
        try:
            _wait_until_up(f"{url}{probe}", proc, log_path, timeout_s)
            yield url, proc
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=stop_s)
            except subprocess.TimeoutExpired:
                proc.kill()


def _wait_until_up(probe_url: str, proc: subprocess.Popen[bytes], log_path: Path, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"parvis up exited with {proc.returncode}: {log_path.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(probe_url, timeout=3) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"parvis up: {probe_url} not 200 in {timeout_s:.0f} s: {log_path.read_text()[-2000:]}")
        time.sleep(0.3)
