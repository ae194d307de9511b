"""The real server: `python -m console up` (uvicorn, st.App, the worker as a child) on a free port.

/readyz answers 200 while the worker runs and 503 once it is stopped; /metrics, the console's page, the
security headers, the request id in JSON log lines; SIGTERM stops everything.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from core.db import open_db
from tests.e2e.server import free_port

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def get(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], str]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as r:
            return r.status, {k.lower(): v for k, v in r.headers.items()}, r.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, {k.lower(): v for k, v in err.headers.items()}, err.read().decode()


def wait_for(predicate, timeout: float, what: str, proc: subprocess.Popen, log: Path):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = predicate()
            if value:
                return value
        except OSError:
            pass
        if proc.poll() is not None:
            raise AssertionError(f"the server exited ({proc.returncode}) waiting for {what}:\n{log.read_text()}")
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}:\n{log.read_text()}")


def children(pid: int) -> list[int]:
    text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    return [int(p) for p in text.split()]


def test_up_serves_console_and_routes_readyz_follows_the_worker(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    open_db(data / "parvis.db").close()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "server.log"
    env = {**os.environ, "PARVIS_DATA_DIR": str(data), "PARVIS_DB": str(data / "parvis.db"),
           "PARVIS_LOG_FORMAT": "json", "PARVIS_READY_MAX_MISSED_BEATS": "2", "PARVIS_BACKUP_INTERVAL_H": "0",
           "PARVIS_X_BEARER_TOKEN": "secret-bearer-value-123"}
    with log.open("w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "console", "up", "--port", str(port)], cwd=tmp_path,
                                env={**env, "PYTHONPATH": str(ROOT)}, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: get(f"{base}/healthz")[0] == 200, 90, "/healthz", proc, log)
        status, _, body = wait_for(lambda: (r := get(f"{base}/readyz"))[0] == 200 and r, 90, "ready", proc, log)
        assert json.loads(body)["checks"]["worker"]["ok"]

        status, headers, page = get(f"{base}/", headers={"X-Request-Id": "test-request-0001"})
        assert status == 200 and "<html" in page.lower()
        assert headers["x-request-id"] == "test-request-0001"
        assert "frame-ancestors 'none'" in headers["content-security-policy"]
        assert headers["x-frame-options"] == "DENY" and "strict-transport-security" not in headers
        status, _, _ = get(f"{base}/", headers={"Host": f"rebind.attacker.example:{port}"})
        assert status == 400  # DNS rebinding: a foreign Host is refused (tests/security/test_network.py)
        status, _, metrics = get(f"{base}/metrics")
        assert status == 200 and "parvis_worker_heartbeat_age_seconds" in metrics
        assert "parvis_mentions_ingested_total" in metrics and "parvis_audit_chain_head_id" in metrics
        assert get(f"{base}/_stcore/health")[0] == 200  # Streamlit's own routes still there

        (worker,) = children(proc.pid)
        os.kill(worker, signal.SIGTERM)
        status, _, body = wait_for(lambda: (r := get(f"{base}/readyz"))[0] == 503 and r, 60, "not ready", proc, log)
        assert "is the worker running?" in json.loads(body)["reason"]
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
    assert proc.returncode == 0, log.read_text()
    lines = [line for line in log.read_text().splitlines() if line.strip()]
    events = [json.loads(line) for line in lines]  # every line is one JSON event
    assert any(e.get("request_id") == "test-request-0001" and e.get("path") == "/" for e in events)
    assert any(e["logger"] == "parvis.worker" and "worker started" in e["msg"] for e in events)
    assert any(e["logger"].startswith("uvicorn") for e in events)
    assert "secret-bearer-value-123" not in log.read_text()
