"""A real SMTP server on 127.0.0.1 (aiosmtpd) with STARTTLS on a self-signed certificate and AUTH, a fake
GeoReport v2 back office (pytest-httpserver), and the settings that point Parvis at them."""

from __future__ import annotations

import datetime as dt
import ipaddress
import socket
import ssl
from email import message_from_bytes, policy
from email.message import Message
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from core.config import Settings
from services.outbox.engine import UNRECORDED

USER, PASSWORD = "parvis", "s3cret-smtp"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and localhost, and its key."""
    folder = tmp_path_factory.mktemp("tls")
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=2))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                        x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


class Collector:
    """Keeps every message the server accepted, and who signed in."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.logins: list[str] = []
        self.refuse_data = 0  # answer the next N DATA with 451

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        if self.refuse_data:
            self.refuse_data -= 1
            return "451 4.3.0 try again later"
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 OK queued"


def _authenticator(collector: Collector):
    def check(server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and auth_data.login.decode() == USER and \
            auth_data.password.decode() == PASSWORD
        if ok:
            collector.logins.append(USER)
        return AuthResult(success=ok, handled=False)  # handled=False: the server answers 535 itself
    return check


def _server_context(tls_files) -> ssl.SSLContext:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(str(tls_files[0]), str(tls_files[1]))
    return ctx


@pytest.fixture
def smtp_server(tls_files):
    """STARTTLS required, AUTH required (only over TLS)."""
    collector = Collector()
    port = _free_port()
    controller = Controller(collector, hostname="127.0.0.1", port=port, tls_context=_server_context(tls_files),
                            require_starttls=True, auth_required=True, auth_require_tls=True,
                            authenticator=_authenticator(collector))
    controller.start()
    collector.port = port  # type: ignore[attr-defined]
    yield collector
    controller.stop()


@pytest.fixture
def smtps_server(tls_files):
    """Implicit TLS (port 465 style) with AUTH."""
    collector = Collector()
    port = _free_port()
    controller = Controller(collector, hostname="127.0.0.1", port=port, ssl_context=_server_context(tls_files),
                            auth_required=True, auth_require_tls=False, authenticator=_authenticator(collector))
    controller.start()
    collector.port = port  # type: ignore[attr-defined]
    yield collector
    controller.stop()


def make_settings(tmp_path: Path, **values: str) -> Settings:
    return Settings(data_dir=tmp_path, db_path=tmp_path / "data" / "parvis.db",
                    values={"PARVIS_DEMO": "0",
                            "PARVIS_MUNICIPAL_SERVICES": "Voirie=voirie@valmont.fr;Propreté=proprete@valmont.fr",
                            **values})


def smtp_values(server: Collector, tls_files, *, security: str = "starttls", password: str = PASSWORD) -> dict:
    return {"PARVIS_SMTP_HOST": "127.0.0.1", "PARVIS_SMTP_PORT": str(server.port),  # type: ignore[attr-defined]
            "PARVIS_SMTP_SECURITY": security, "PARVIS_SMTP_USER": USER, "PARVIS_SMTP_PASSWORD": password,
            "PARVIS_SMTP_FROM": "Parvis <parvis@valmont.fr>", "PARVIS_SMTP_CA_FILE": str(tls_files[0]),
            "PARVIS_SMTP_TIMEOUT_S": "5"}


@pytest.fixture(autouse=True)
def _fresh_process():
    UNRECORDED.clear()
    yield
    UNRECORDED.clear()
