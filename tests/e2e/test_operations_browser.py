"""End-to-end: the one server (`up`) in Chromium under its security headers, and an installed wheel running
`parvis --version`, `parvis demo` and `parvis up` from outside the checkout."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import time
import urllib.request
from pathlib import Path

import pytest

from core.version import __version__
from tests.e2e.server import ROOT, parvis_up
from tests.operations.test_package import build_wheel

pytestmark = pytest.mark.e2e
REPORT_VIOLATIONS = ("document.addEventListener('securitypolicyviolation', e => "
                     "console.error('CSP-VIOLATION ' + e.violatedDirective + ' ' + e.blockedURI))")


def _demo(db_path: Path, command: list[str], cwd: Path, env: dict[str, str] | None = None) -> None:
    db_path.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run([*command, "demo", "--days", "3"], cwd=cwd, check=True, capture_output=True,
                   env={**os.environ, "PARVIS_DB": str(db_path), "PARVIS_DATA_DIR": str(db_path.parent),
                        **(env or {})})


def _watch(page) -> list[str]:
    problems: list[str] = []
    page.add_init_script(REPORT_VIOLATIONS)
    page.on("console", lambda m: problems.append(m.text) if "CSP-VIOLATION" in m.text
            or "Content Security Policy" in m.text else None)
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("request", lambda r: problems.append(f"outside request: {r.url}")
            if not r.url.startswith(("http://127.0.0.1", "data:", "blob:")) else None)
    return problems


def test_the_console_runs_under_its_content_security_policy(browser, tmp_path):
    db_path = tmp_path / "data" / "parvis.db"
    _demo(db_path, [sys.executable, "-m", "console"], ROOT)
    with parvis_up(db_path) as url:
        with urllib.request.urlopen(url) as r:
            assert "frame-ancestors 'none'" in r.headers["Content-Security-Policy"]
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        problems = _watch(page)
        page.goto(url, wait_until="domcontentloaded")
        page.get_by_text("Boîte de réception", exact=True).first.wait_for(timeout=60_000)
        page.get_by_text("message(s)").first.wait_for(timeout=60_000)
        page.locator("[data-testid='stDataFrame']").first.wait_for(timeout=30_000)
        page.get_by_text(f"Parvis {__version__}").wait_for(timeout=30_000)
        page.goto(f"{url}/tableau-de-bord", wait_until="domcontentloaded")
        page.locator(".vega-embed canvas, .vega-embed svg").first.wait_for(timeout=60_000)
        time.sleep(2)  # late violations (charts, fonts) arrive after the first paint
        assert page.locator("[data-testid='stException']").count() == 0
        page.close()
    assert not problems, problems


def _venv_with_the_wheel(tmp_path: Path) -> Path:
    """A fresh virtual environment with only the Parvis wheel installed in it (--no-deps); the dependencies come
    from this environment's site-packages through a .pth file placed after the venv's own (offline, fast)."""
    wheel = build_wheel(tmp_path / "wheel")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               check=True, capture_output=True, text=True).stdout.strip())
    (site / "zz_parvis_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps",
                    "--no-index", str(wheel)], check=True, capture_output=True)
    return venv


def test_an_installed_wheel_runs_parvis_up_from_outside_the_checkout(browser, tmp_path):
    venv = _venv_with_the_wheel(tmp_path)
    parvis = str(venv / "bin" / "parvis")
    srv = tmp_path / "srv"  # a city's working directory, outside the checkout
    srv.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PARVIS_DB", "PARVIS_DATA_DIR")}
    where = subprocess.run([str(venv / "bin" / "python"), "-c",
                            "import importlib.util as u; print(u.find_spec('console').origin); "
                            "print(u.find_spec('streamlit_app').origin)"], cwd=srv, env=env, check=True,
                           capture_output=True, text=True).stdout.split()
    assert all(w.startswith(str(venv)) for w in where), where  # the installed copy, not the checkout

    version = subprocess.run([parvis, "--version"], cwd=srv, env=env, check=True, capture_output=True, text=True)
    assert version.stdout.strip() == f"Parvis {__version__}"
    demo = subprocess.run([parvis, "demo", "--days", "3"], cwd=srv, env=env, check=True, capture_output=True,
                          text=True)
    assert f"Demo ready in {srv / 'data' / 'parvis.db'}" in demo.stdout  # ./data of the working directory
    assert not (Path(where[1]).parent / "data").exists()  # nothing written inside site-packages

    with parvis_up(srv / "data" / "parvis.db", command=[parvis], worker=True, cwd=srv, ready_path="/readyz",
                   base_env=env) as url:
        with urllib.request.urlopen(f"{url}/readyz") as r:
            assert r.status == 200 and json.loads(r.read())["status"] == "ready"
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.goto(url, wait_until="domcontentloaded")
        page.get_by_text("Boîte de réception", exact=True).first.wait_for(timeout=60_000)
        page.get_by_text("message(s)").first.wait_for(timeout=60_000)
        page.get_by_text(f"Parvis {__version__}").wait_for(timeout=30_000)
        assert page.locator("[data-testid='stException']").count() == 0
        page.close()
