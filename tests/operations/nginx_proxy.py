"""Run Debian's nginx, as the current user, on the shipped ``deploy/nginx/parvis.conf`` for the tests.

The shipped site file is used as it is, with only its names, ports and paths replaced (:func:`site_config`:
each replaced text must be found, so the test follows the file). A generated main ``nginx.conf`` around it puts
the pid file, the logs and the temporary folders in a temporary directory (``-p`` prefix, ``daemon off``: the
test owns the master process). The certificate is self-signed, made by :func:`self_signed` for the test's name.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import pwd
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NGINX = Path("/usr/sbin/nginx")
SITE = ROOT / "deploy" / "nginx" / "parvis.conf"
NAME = "parvis.test"  # the console's name in the tests (Chromium maps it to 127.0.0.1)


def require_nginx() -> None:
    """Skip (outside CI) or fail (in CI, where `make test` installs it) when nginx is not installed."""
    if NGINX.exists():
        return
    message = f"{NGINX} missing: run `make nginx` (installs Debian's nginx)"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def self_signed(folder: Path, name: str = NAME) -> tuple[Path, Path]:
    """A self-signed certificate for ``name``, ``localhost`` and 127.0.0.1; returns (certificate, key) paths."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(name), x509.DNSName("localhost"),
                                                        x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .sign(key, hashes.SHA256()))
    folder.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = folder / "fullchain.pem", folder / "privkey.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    key_path.chmod(0o600)
    return cert_path, key_path


@dataclass(frozen=True)
class Proxy:
    """A running nginx: its ports, its folder (logs under ``logs/``)."""

    https_port: int
    http_port: int
    folder: Path

    @property
    def url(self) -> str:
        return f"https://{NAME}:{self.https_port}"

    def log(self, name: str, *, containing: str = "", wait_s: float = 5.0) -> str:
        """The log file's text; with ``containing``, waits (up to ``wait_s``) until it holds that text: nginx writes
        its access log line when it finalises the request, which a busy machine may do after the client has read
        the answer."""
        path = self.folder / "logs" / name
        deadline = time.monotonic() + wait_s
        while True:
            text = path.read_text(errors="replace") if path.exists() else ""
            if not containing or containing in text or time.monotonic() > deadline:
                return text
            time.sleep(0.05)


def site_config(folder: Path, *, upstream_port: int, https_port: int, http_port: int) -> str:
    """The shipped site file with this test's names, ports and paths (each original text must be there)."""
    cert, key = self_signed(folder / "tls")
    text = SITE.read_text(encoding="utf-8")
    replacements = [
        ("/etc/letsencrypt/live/parvis.example.fr/fullchain.pem", str(cert)),
        ("/etc/letsencrypt/live/parvis.example.fr/privkey.pem", str(key)),
        ("server_name parvis.example.fr;", f"server_name {NAME};"),
        ("server 127.0.0.1:8501;", f"server 127.0.0.1:{upstream_port};"),
        ("listen 80;", f"listen 127.0.0.1:{http_port};"),
        ("listen 443 ssl http2;", f"listen 127.0.0.1:{https_port} ssl http2;"),
        ("listen [::]:80;", ""),  # loopback IPv4 only in the tests
        ("listen [::]:443 ssl http2;", ""),
        ("return 301 https://$host$request_uri;", f"return 301 https://$host:{https_port}$request_uri;"),
        ("/var/log/nginx/", f"{folder / 'logs'}/"),
        ("/var/www/letsencrypt", str(folder / "acme")),
    ]
    for old, new in replacements:
        assert old in text, f"{old!r} no longer in {SITE}: update the test's replacements"
        text = text.replace(old, new)
    return text


def main_config(folder: Path, site: Path) -> str:
    """nginx.conf for a non-root nginx whose every file is under ``folder``."""
    temp = folder / "temp"
    # Run as root (a CI container), the workers would switch to "nobody", who cannot enter the test's folder.
    user = [f"user {pwd.getpwuid(os.geteuid()).pw_name};"] if os.geteuid() == 0 else []
    return "\n".join([
        *user,
        "worker_processes 1;",
        "daemon off;",
        f"pid {folder / 'nginx.pid'};",
        f"error_log {folder / 'logs' / 'error.log'} info;",
        "events { worker_connections 256; }",
        "http {",
        *(f"    {kind}_temp_path {temp / kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")),
        f"    access_log {folder / 'logs' / 'access.log'};",
        f"    include {site};",
        "}",
        "",
    ])


def _wait_port(port: int, proc: subprocess.Popen, folder: Path, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"nginx exited ({proc.returncode}): {(folder / 'logs' / 'error.log').read_text()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nginx did not listen on {port} in {timeout} s")


@contextmanager
def nginx_proxy(folder: Path, *, upstream_port: int) -> Iterator[Proxy]:
    """nginx on 127.0.0.1 (HTTPS and HTTP on free ports) in front of ``127.0.0.1:upstream_port``."""
    require_nginx()
    folder.mkdir(parents=True, exist_ok=True)
    for sub in ("logs", "acme", "temp"):
        (folder / sub).mkdir(exist_ok=True)
    proxy = Proxy(https_port=free_port(), http_port=free_port(), folder=folder)
    site = folder / "parvis.conf"
    site.write_text(site_config(folder, upstream_port=upstream_port, https_port=proxy.https_port,
                                http_port=proxy.http_port), encoding="utf-8")
    conf = folder / "nginx.conf"
    conf.write_text(main_config(folder, site), encoding="utf-8")
    args = [str(NGINX), "-p", str(folder), "-c", str(conf), "-e", str(folder / "logs" / "error.log")]
    check = subprocess.run([*args, "-t"], capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
    out = (folder / "logs" / "nginx.out").open("w")
    proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT)
    try:
        _wait_port(proxy.https_port, proc, folder)
        _wait_port(proxy.http_port, proc, folder)
        yield proxy
    finally:
        proc.send_signal(signal.SIGQUIT)  # graceful stop
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        out.close()
