"""console/bench/serving.py: the one launcher of a local server (``parvis up`` for ``bench ui`` and
scripts/footprint.py, ``parvis up`` and ``streamlit run`` for the browser tests through tests/e2e/server.py)."""

from __future__ import annotations

import os
import sys
import urllib.request

import pytest

from console.bench.serving import free_port, started

# A tiny server: 503 on /probe for its first two calls (not ready yet), then 200.
SERVER = """
import http.server, sys
calls = []
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        calls.append(1)
        self.send_response(200 if len(calls) > 2 else 503)
        self.end_headers()
        self.wfile.write(b"ok")
    def log_message(self, *a):
        print("GET", flush=True)
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
"""


def test_started_yields_once_the_probe_says_200_and_stops_the_server(tmp_path):
    port = free_port()
    log = tmp_path / "server.log"
    with started([sys.executable, "-c", SERVER, str(port)], os.environ, log, f"http://127.0.0.1:{port}/probe",
                 cwd=tmp_path, timeout_s=30, stop_s=5, name="test server") as proc:
        assert proc.poll() is None
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/probe", timeout=3) as r:
            assert r.status == 200
    assert proc.poll() is not None  # SIGTERM on leaving
    assert log.read_text().count("GET") >= 3  # its output went to the log


def test_a_server_that_exits_is_reported_with_its_log(tmp_path):
    log = tmp_path / "server.log"
    code = "print('port already in use'); raise SystemExit(3)"
    with pytest.raises(RuntimeError, match=r"streamlit exited with 3: port already in use"), \
            started([sys.executable, "-c", code], os.environ, log, f"http://127.0.0.1:{free_port()}/",
                    cwd=tmp_path, timeout_s=30, name="streamlit"):
        pytest.fail("yielded")


def test_a_server_never_ready_is_reported_after_the_timeout(tmp_path):
    code = "import time; time.sleep(60)"
    with pytest.raises(RuntimeError, match=r"parvis up: http://127\.0\.0\.1:\d+/healthz not 200 in 3 s"), \
            started([sys.executable, "-c", code], os.environ, tmp_path / "up.log",
                    f"http://127.0.0.1:{free_port()}/healthz", cwd=tmp_path, timeout_s=3, stop_s=5):
        pytest.fail("yielded")
