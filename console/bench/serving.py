"""``python -m console up`` started for a measurement (``bench ui``, ``scripts/footprint.py``) or a browser test
(tests/e2e/server.py, which also starts ``streamlit run`` through :func:`started`): a free port, its output in a log
file, the URL yielded once a probe route says 200, SIGTERM when done. Never imports Streamlit."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
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
              timeout_s: float = 180, stop_s: float = 30, program: Sequence[str] | None = None,
              cwd: Path | None = None) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """``python -m console up`` (or ``program up``, e.g. an installed ``parvis``; ``--no-worker`` unless ``worker``)
    on a free port with ``env``, in ``cwd`` (the checkout by default), its output in ``log_path``; yields
    (URL, process) once ``probe`` answers 200. RuntimeError, with the log's end, when it exits or is not up within
    ``timeout_s``. On leaving: SIGTERM, then a kill after ``stop_s``."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [*(program or [sys.executable, "-m", "console"]), "up", *([] if worker else ["--no-worker"]),
               "--port", str(port)]
    with started(command, env, log_path, f"{url}{probe}", cwd=cwd, timeout_s=timeout_s, stop_s=stop_s,
                 name="parvis up") as proc:
        yield url, proc


@contextmanager
def started(command: Sequence[str], env: Mapping[str, str], log_path: Path, probe_url: str, *,
            cwd: Path | None = None, timeout_s: float = 180, stop_s: float = 30,
            name: str = "parvis up") -> Iterator[subprocess.Popen[bytes]]:
    """Any server (``parvis up``, ``streamlit run`` for the browser tests): ``command`` run in ``cwd`` with ``env``,
    its output in ``log_path``; yields the process once ``probe_url`` answers 200. RuntimeError (named ``name``, with
    the log's end) when it exits or is not up within ``timeout_s``. On leaving: SIGTERM, then a kill after
    ``stop_s``."""
    with log_path.open("w") as log:
        proc = subprocess.Popen(list(command), cwd=cwd or ROOT, env=dict(env), stdout=log, stderr=subprocess.STDOUT)
        try:
            _wait_until_up(probe_url, proc, log_path, timeout_s, name)
            yield proc
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=stop_s)
            except subprocess.TimeoutExpired:
                proc.kill()


def _wait_until_up(probe_url: str, proc: subprocess.Popen[bytes], log_path: Path, timeout_s: float,
                   name: str) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"{name} exited with {proc.returncode}: {log_path.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(probe_url, timeout=3) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"{name}: {probe_url} not 200 in {timeout_s:.0f} s: {log_path.read_text()[-2000:]}")
        time.sleep(0.3)
