"""End-to-end behind the real reverse proxy: Debian's nginx on the shipped deploy/nginx/parvis.conf (names, ports
and paths replaced: tests/operations/nginx_proxy.py), with a self-signed certificate, in front of `python -m
console up`; Chromium signs in over https://, answers a resident in the inbox, and the reply is recorded.

What it proves: TLS and the proxy headers (uvicorn sees https from X-Forwarded-Proto, so HSTS is sent), the
WebSocket upgrade of /_stcore/stream through nginx (the console would not render otherwise), the allowed hosts
(PARVIS_ALLOWED_HOSTS names the proxy's host) and Streamlit's XSRF/CORS checks behind a proxy, and a write
through the whole chain.
"""

from __future__ import annotations

import http.client
import json
import re
import ssl
from dataclasses import replace
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from core import repo
from core.db import open_db, write_transaction
from core.models import DraftState, Role
from services.accounts import users
from tests.conftest import NOW, make_mention
from tests.e2e.server import CHROMIUM, CHROMIUM_ARGS, parvis_up
from tests.operations.nginx_proxy import NAME, nginx_proxy, require_nginx

pytestmark = pytest.mark.e2e

WAIT = 30_000
PASSWORD = "Valmont-proxy-2026!"
PNG = b"\x89PNG\r\n\x1a\n"
REPLY = "Bonjour, la médiathèque rouvre lundi à 10 h."


def _seed(db_path: Path) -> None:
    db_path.parent.mkdir(parents=True, exist_ok=True)
    db = open_db(db_path)
    users.create_agent(db, None, email="julie@valmont.fr", name="Julie Martin", initials="JM",
                       role=Role.COMMUNITY_MANAGER, password=PASSWORD, now=NOW)
    with write_transaction(db):
        mention = replace(make_mention("La médiathèque est-elle ouverte lundi ?", pid="proxy-1", author="camille"),
                          account="demo")
        repo.upsert_mentions(db, [mention], now=NOW, scores=[repo.Scores(priority=5)])
    db.close()


def _status(port: int, host: str) -> int:
    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE  # the test's self-signed certificate
    conn = http.client.HTTPSConnection("127.0.0.1", port, context=context, timeout=10)
    try:
        conn.request("GET", "/", headers={"Host": f"{host}:{port}"})
        return conn.getresponse().status
    finally:
        conn.close()


def test_the_console_through_nginx_and_tls_sends_a_reply(tmp_path):
    require_nginx()
    playwright = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} missing: run `make browser` (installs Debian's chromium)")
    db_path = tmp_path / "data" / "parvis.db"
    _seed(db_path)
    env = {"PARVIS_AUTH": "local", "PARVIS_ALLOWED_HOSTS": NAME}
    with parvis_up(db_path, extra_env=env) as upstream, \
            nginx_proxy(tmp_path / "nginx", upstream_port=urlsplit(upstream).port or 0) as proxy, \
            playwright.sync_playwright() as p:
        assert _status(proxy.https_port, NAME) == 200
        assert _status(proxy.https_port, "rebind.attacker.example") == 400  # allowed hosts still checked behind
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                                    args=[*CHROMIUM_ARGS, f"--host-resolver-rules=MAP {NAME} 127.0.0.1"])
        context = browser.new_context(ignore_https_errors=True, viewport={"width": 1400, "height": 1000})
        page = context.new_page()
        answer = page.goto(f"http://{NAME}:{proxy.http_port}/", wait_until="domcontentloaded")
        assert answer is not None and page.url == f"{proxy.url}/"  # redirected to HTTPS
        assert answer.headers.get("strict-transport-security")  # uvicorn saw https through X-Forwarded-Proto
        outside: list[str] = []  # from here on, nothing but https://parvis.test:PORT
        page.on("request", lambda r: outside.append(r.url)
                if not r.url.startswith((proxy.url, "data:", "blob:")) else None)

        page.get_by_label("Adresse e-mail").first.fill("julie@valmont.fr")  # the sign-in form comes first
        page.get_by_label("Mot de passe", exact=True).first.fill(PASSWORD)
        page.get_by_role("button", name="Se connecter").click()
        page.get_by_text("Boîte de réception", exact=True).first.wait_for(timeout=WAIT)
        page.get_by_text("1 message(s)").wait_for(timeout=WAIT)
        grid = page.locator("[data-testid='stDataFrame']").first
        grid.wait_for(timeout=WAIT)
        box = grid.bounding_box()
        page.mouse.click(box["x"] + 12, box["y"] + 35 + 17)  # the first row's selection box
        reply = page.get_by_label("Votre réponse")
        reply.wait_for(timeout=WAIT)
        reply.fill(REPLY)
        reply.press("Control+Enter")
        send = page.get_by_role("button", name="Envoyer", exact=True)
        playwright.expect(send).to_be_enabled(timeout=WAIT)
        send.click()
        page.get_by_text("Réponse envoyée", exact=False).first.wait_for(timeout=WAIT)

        # an upload near the 5 MB limit goes through nginx and Streamlit's XSRF check (PUT /_stcore/upload_file)
        page.get_by_role("link", name="Calendrier").click()
        page.get_by_role("tab", name="Nouvelle publication").click()
        page.locator("input[type=file]").first.set_input_files(
            {"name": "affiche.png", "mimeType": "image/png", "buffer": PNG + bytes(4_500_000)})
        page.get_by_text("Texte alternatif de « affiche.png »").wait_for(timeout=WAIT)
        assert page.locator("[data-testid='stException']").count() == 0
        context.close()
        browser.close()
        access = proxy.log("parvis.access.log", containing='"GET /_stcore/stream HTTP/1.1" 101')
    assert not outside, outside

    assert '"GET /_stcore/stream HTTP/1.1" 101' in access  # the WebSocket went through nginx
    assert re.search(r'"PUT /_stcore/upload_file/\S+ HTTP/[\d.]+" 204 ', access)  # XSRF token accepted
    outbox = [json.loads(line) for line in (db_path.parent / "demo-outbox.jsonl").read_text().splitlines()]
    assert [r["text"] for r in outbox if r["kind"] == "reply"] == [f"{REPLY}\n— Julie"]
    db = open_db(db_path)
    (draft,) = repo.drafts_for(db, "x:proxy-1")
    assert draft.state is DraftState.SENT and draft.author_id == 1
    assert repo.get_item(db, "x:proxy-1").status.value == "answered"
    signed_in = db.execute("SELECT count(*) FROM sessions").fetchone()[0]
    db.close()
    assert signed_in == 1
