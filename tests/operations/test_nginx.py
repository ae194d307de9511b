"""The shipped nginx site file (deploy/nginx/parvis.conf) run by Debian's nginx: HTTP redirects to HTTPS, the
proxy headers reach Parvis, the body size follows the upload limit. The browser through it:
tests/e2e/test_nginx_browser.py."""

from __future__ import annotations

import http.client
import json
import re
import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from console.server import STREAMLIT_OPTIONS
from tests.operations.nginx_proxy import NAME, SITE, nginx_proxy


class _Echo(BaseHTTPRequestHandler):
    """An upstream that answers the request's headers (and the size of its body) as JSON."""

    protocol_version = "HTTP/1.1"

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        received = len(self.rfile.read(length)) if length else 0
        body = json.dumps({"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()},
                           "received": received}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _answer

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture
def echo() -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def _https(port: int) -> http.client.HTTPSConnection:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # the test's self-signed certificate
    return http.client.HTTPSConnection("127.0.0.1", port, context=context, timeout=10)


def test_http_redirects_to_https_with_path_and_query(tmp_path, echo):
    with nginx_proxy(tmp_path / "nginx", upstream_port=echo) as proxy:
        conn = http.client.HTTPConnection("127.0.0.1", proxy.http_port, timeout=10)
        conn.request("GET", "/inbox?q=voirie", headers={"Host": NAME})
        answer = conn.getresponse()
        assert answer.status == 301
        assert answer.getheader("Location") == f"https://{NAME}:{proxy.https_port}/inbox?q=voirie"
        conn.close()


def test_https_forwards_the_proxy_headers_and_limits_the_body(tmp_path, echo):
    with nginx_proxy(tmp_path / "nginx", upstream_port=echo) as proxy:
        conn = _https(proxy.https_port)
        host = f"{NAME}:{proxy.https_port}"
        conn.request("GET", "/healthz?x=1", headers={"Host": host})
        answer = conn.getresponse()
        assert answer.status == 200
        seen = json.loads(answer.read())
        assert seen["path"] == "/healthz?x=1"
        headers = seen["headers"]
        assert headers["host"] == host  # the browser's host:port (Streamlit's WebSocket same-origin check)
        assert headers["x-forwarded-proto"] == "https"
        assert headers["x-forwarded-for"] == "127.0.0.1" and headers["x-real-ip"] == "127.0.0.1"
        assert re.fullmatch(r"[0-9a-f]{32}", headers["x-request-id"])  # RequestIdMiddleware accepts it
        logged = proxy.log("parvis.access.log", containing=headers["x-request-id"])
        assert headers["x-request-id"] in logged  # one id in both logs
        assert "x=1" not in logged  # no query string in the access log

        upload_mb = STREAMLIT_OPTIONS["server.maxUploadSize"]
        conn.request("POST", "/upload", body=b"x" * (upload_mb * 1024 * 1024 + 64 * 1024),
                     headers={"Host": host, "Content-Type": "application/octet-stream"})
        answer = conn.getresponse()
        assert answer.status == 200, "a file at the upload limit (plus its envelope) must reach Streamlit"
        assert json.loads(answer.read())["received"] > upload_mb * 1024 * 1024
        conn.close()

        conn = _https(proxy.https_port)
        conn.request("POST", "/upload", body=b"x" * ((upload_mb + 2) * 1024 * 1024),
                     headers={"Host": host, "Content-Type": "application/octet-stream"})
        assert conn.getresponse().status == 413  # far beyond: refused by nginx before Parvis
        conn.close()


def test_body_size_follows_the_upload_limit():
    (size,) = re.findall(r"client_max_body_size (\d+)m;", SITE.read_text())
    assert int(size) == STREAMLIT_OPTIONS["server.maxUploadSize"] + 1  # the limit plus the multipart envelope
