"""The session cookie route (console/web/cookies.py): one-time codes, the cookie's attributes."""

from __future__ import annotations

import time

from starlette.applications import Starlette
from starlette.testclient import TestClient

from console.web import cookies


def _client(https: bool = False) -> TestClient:
    app = Starlette(routes=[cookies.route()])
    return TestClient(app, base_url="https://testserver" if https else "http://testserver")


def test_a_code_sets_its_cookie_once_httponly_and_strict():
    code = cookies.HANDOFFS.issue(cookies.CookieOrder(cookies.SESSION_COOKIE, "tok123", 3600))
    assert cookies.HANDOFFS.pending(code)
    r = _client().get(f"/auth/cookie?code={code}")
    assert r.status_code == 200 and r.headers["content-type"] == "image/gif" and r.content == cookies.PIXEL
    header = r.headers["set-cookie"]
    assert header.startswith("parvis_session=tok123;")
    assert "HttpOnly" in header and "SameSite=Strict" in header and "Max-Age=3600" in header
    assert "Path=/" in header and "Secure" not in header
    assert r.headers["cache-control"] == "no-store"
    assert not cookies.HANDOFFS.pending(code)
    again = _client().get(f"/auth/cookie?code={code}")  # used: nothing set
    assert again.status_code == 200 and "set-cookie" not in again.headers


def test_secure_over_https_and_clearing():
    code = cookies.HANDOFFS.issue(cookies.CookieOrder(cookies.SESSION_COOKIE, None))
    header = _client(https=True).get(f"/auth/cookie?code={code}").headers["set-cookie"]
    assert header.startswith("parvis_session=;") and "Max-Age=0" in header and "Secure" in header


def test_unknown_and_expired_codes_set_nothing():
    assert "set-cookie" not in _client().get("/auth/cookie?code=made-up").headers
    assert "set-cookie" not in _client().get("/auth/cookie").headers
    short = cookies.Handoffs(ttl_s=0.01)
    code = short.issue(cookies.CookieOrder("x", "y", 1))
    time.sleep(0.05)
    assert not short.pending(code) and short.redeem(code) is None


def test_the_route_is_among_parvis_routes(tmp_path):
    from console.web.routes import parvis_routes
    from core.config import Settings

    settings = Settings(data_dir=tmp_path, db_path=tmp_path / "p.db", values={})
    assert any(getattr(r, "path", "") == cookies.COOKIE_PATH for r in parvis_routes(settings))
    assert cookies.SERVED["route"]
