"""The console's network surface: Host and Origin allow-list (DNS rebinding), and the upload limit.

A page served to the browser from an attacker's name that resolves to 127.0.0.1 (DNS rebinding) sends that
name as ``Host`` and ``Origin``: the server refuses it, HTTP and the console's WebSocket alike.
"""

from __future__ import annotations

import logging
import tomllib
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.responses import PlainTextResponse
from starlette.routing import Route, WebSocketRoute
from starlette.testclient import TestClient
from starlette.websockets import WebSocket, WebSocketDisconnect

from console import server
from console.web import middleware as mw
from core.config import Settings
from services.editorial import calendar_inputs

ROOT = Path(__file__).resolve().parents[2]


async def _page(_request):  # type: ignore[no-untyped-def]
    return PlainTextResponse("page")


async def _stream(websocket: WebSocket) -> None:
    await websocket.accept()
    await websocket.send_text("hello")
    await websocket.close()


def _client(settings: Settings, base_url: str = "http://localhost:8501") -> TestClient:
    """A tiny app behind the server's middleware stack, as ``build_app`` stacks it."""
    app = Starlette(routes=[Route("/", _page, methods=["GET", "POST"]), Route("/healthz", _page),
                            WebSocketRoute("/_stcore/stream", _stream)],
                    middleware=[Middleware(mw.SecurityHeadersMiddleware), Middleware(mw.RequestIdMiddleware),
                                Middleware(mw.AllowedHostsMiddleware, hosts=server.hosts(settings))])
    return TestClient(app, base_url=base_url)


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings(data_dir=tmp_path, db_path=tmp_path / "parvis.db",
                    values={"PARVIS_ALLOWED_HOSTS": "console.valmont.fr, *.mairie-valmont.fr"})


def _ws(client: TestClient, host: str, origin: str | None = None) -> str:
    headers = {"host": host, **({"origin": origin} if origin else {})}
    with client.websocket_connect("/_stcore/stream", headers=headers) as ws:
        return ws.receive_text()


def test_a_request_and_a_websocket_for_a_foreign_host_are_refused(settings, caplog):
    client = _client(settings)
    with caplog.at_level(logging.WARNING, logger="parvis.http.refused"):
        r = client.post("/", headers={"host": "rebind.attacker.example:8501"}, content=b"secret-body-123")
    assert r.status_code == 400 and "page" not in r.text
    assert r.headers["x-frame-options"] == "DENY" and r.headers["x-request-id"]
    assert "rebind.attacker.example" in caplog.text and "secret-body-123" not in caplog.text
    assert client.get("/", headers={"host": "rebind.attacker.example"}).status_code == 400
    assert client.get("/", headers={"host": "localhost@evil.example"}).status_code == 400
    with pytest.raises(WebSocketDisconnect) as refused:
        _ws(client, "rebind.attacker.example:8501", "http://rebind.attacker.example:8501")
    assert refused.value.code == 1008
    with pytest.raises(WebSocketDisconnect):
        _ws(client, "evil.console.valmont.fr")  # a listed name is exact; only `*.` names take sub-domains


@pytest.mark.parametrize("host", ["localhost:8501", "127.0.0.1:8501", "[::1]:8501", "localhost",
                                  "console.valmont.fr", "CONSOLE.valmont.fr.", "www.mairie-valmont.fr"])
def test_the_local_and_the_listed_hosts_are_served(settings, host):
    client = _client(settings)
    assert client.get("/", headers={"host": host}).text == "page"
    origin = f"https://{host}"
    assert client.post("/", headers={"host": host, "origin": origin}).text == "page"
    assert _ws(client, host, origin) == "hello"
    assert _ws(client, host) == "hello"  # no Origin: a program, not a browser page


def test_a_foreign_origin_is_refused_on_the_websocket_and_on_a_post_for_an_allowed_host(settings):
    client = _client(settings)
    for origin in ("http://rebind.attacker.example:8501", "null", "file://"):
        with pytest.raises(WebSocketDisconnect) as refused:
            _ws(client, "localhost:8501", origin)
        assert refused.value.code == 1008
        assert client.post("/", headers={"host": "localhost:8501", "origin": origin}).status_code == 400
    # A link followed from another site (GET, Origin absent or foreign) still opens the console.
    assert client.get("/", headers={"host": "localhost:8501", "origin": "https://other.example"}).text == "page"


def test_the_probes_answer_whatever_the_host(settings):
    client = _client(settings)
    assert client.get("/healthz", headers={"host": "10.1.2.3:8501"}).text == "page"


def test_without_the_setting_only_local_hosts_are_allowed(tmp_path):
    client = _client(Settings(data_dir=tmp_path, db_path=tmp_path / "parvis.db", values={}))
    assert client.get("/", headers={"host": "console.valmont.fr"}).status_code == 400
    assert client.get("/", headers={"host": "127.0.0.1:8501"}).text == "page"


def test_the_server_stacks_the_host_check_and_tells_streamlit_the_same_hosts(settings):
    app = server.build_app(settings)
    stack = [m.cls for m in app._user_middleware]  # st.App keeps the list it was given
    assert mw.AllowedHostsMiddleware in stack
    options = server.streamlit_options(settings, address="127.0.0.1", port=8501)
    assert options["server.allowedHosts"] == ["localhost", "127.0.0.1", "::1", "console.valmont.fr",
                                              "*.mairie-valmont.fr"]
    assert options["server.enableXsrfProtection"] is True


def test_streamlit_refuses_uploads_larger_than_the_forms_own_limit():
    local = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))["server"]
    assert local["maxUploadSize"] * 1024 * 1024 == calendar_inputs.MAX_IMAGE_BYTES  # Streamlit's MB are MiB
    assert server.STREAMLIT_OPTIONS["server.maxUploadSize"] == local["maxUploadSize"]
    assert local["enableXsrfProtection"] is True


def test_the_service_refuses_a_larger_image_with_a_catalogue_reason(tmp_path):
    from core.errors import ValidationError

    with pytest.raises(ValidationError) as err:
        calendar_inputs.store_image(tmp_path, "big.png", b"\x89PNG\r\n\x1a\n" + b"0" * calendar_inputs.MAX_IMAGE_BYTES)
    assert err.value.reason == "image_too_big"
