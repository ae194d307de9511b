"""The installable package: one version, the parvis command, the wheel's content, the data directory of an
installed copy, Streamlit options shared by `up` and `streamlit run`, the console's error references."""

from __future__ import annotations

import logging
import re
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from streamlit.testing.v1 import AppTest

from console.cli import _load_commands, _prog_name, cli
from core import config
from core.version import __version__

ROOT = Path(__file__).resolve().parents[2]
ASSETS = ["connectors/demo/people_fr.toml", "connectors/demo/texts_fr.toml", "editorial/data/default_charter.yaml",
          "editorial/data/tlds.txt", "moderation/lexicon_fr.toml", "moderation/data/sentiment_lexicon_fr.toml",
          "moderation/models/sentiment_offline.npz", "moderation/models/toxicity_offline.npz"]


def build_wheel(out: Path) -> Path:
    """``pip wheel`` of the checkout, offline (the setuptools of this environment, no build isolation), built
    from a copy of the tracked files so that the checkout gets no build/ or egg-info."""
    src = out / "src"
    files = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                           check=True, capture_output=True).stdout.split(b"\0")
    for name in filter(None, files):
        path = ROOT / name.decode()
        if path.is_file():
            target = src / name.decode()
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(path.read_bytes())
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", str(src),
                    "-w", str(out / "dist")], check=True, capture_output=True)
    (wheel,) = (out / "dist").glob("parvis-*.whl")
    return wheel


def test_the_version_has_one_source():
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert meta["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "core.version.__version__"}
    assert "version" in meta["project"]["dynamic"]
    result = CliRunner().invoke(cli, ["--version"])
    assert result.exit_code == 0 and result.output.strip() == f"Parvis {__version__}"


def test_pyproject_holds_the_packaging_and_the_tools_sections():
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert set(meta) <= {"build-system", "project", "tool"}
    assert set(meta.get("tool", {})) <= {"setuptools", "ruff", "mypy"}
    assert meta["project"]["scripts"] == {"parvis": "console.cli:main"}


def test_the_command_is_named_after_how_it_was_started(monkeypatch):
    monkeypatch.setattr(sys, "argv", ["/opt/parvis/venv/bin/parvis"])
    assert _prog_name() == "parvis"
    monkeypatch.setattr(sys, "argv", ["/x/console/__main__.py"])
    assert _prog_name() == "python -m console"


def test_the_wheel_ships_the_models_assets_router_and_pages(tmp_path):
    before = sorted(p.name for p in ROOT.iterdir())
    wheel = build_wheel(tmp_path)
    assert sorted(p.name for p in ROOT.iterdir()) == before  # built from a copy: no build/ in the checkout
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {*ASSETS, "streamlit_app.py", "core/version.py", "console/server.py"} <= names
    pages = {p.relative_to(ROOT).as_posix() for p in (ROOT / "console" / "ui" / "pages").glob("*.py")}
    assert pages and pages <= names
    assert not [n for n in names if n.startswith(("tests/", "docs/", "data/"))]
    entry_points = zipfile.ZipFile(wheel).read(f"parvis-{__version__}.dist-info/entry_points.txt").decode()
    assert "parvis = console.cli:main" in entry_points
    metadata = zipfile.ZipFile(wheel).read(f"parvis-{__version__}.dist-info/METADATA").decode()
    pins = [line.split("#")[0].strip() for line in (ROOT / "requirements.txt").read_text().splitlines()]
    for pin in filter(None, pins):
        assert f"Requires-Dist: {pin}" in metadata


def test_an_installed_copy_keeps_its_data_under_the_working_directory(tmp_path, monkeypatch):
    assert config.running_from_checkout()
    assert config.default_data_dir(tmp_path) == config.DEFAULT_DATA_DIR  # a checkout: data/ of the checkout
    site = tmp_path / "site-packages"
    (site / "core").mkdir(parents=True)
    assert not config.running_from_checkout(site)
    monkeypatch.setattr(config, "running_from_checkout", lambda root=config.REPO_ROOT: False)
    work = tmp_path / "srv"
    loaded = config.Settings.load(env={}, cwd=work)
    assert loaded.data_dir == work / "data" and loaded.db_path == work / "data" / "parvis.db"
    service = config.Settings.load(env={"PARVIS_DATA_DIR": "/var/lib/parvis"}, cwd=work)
    assert service.data_dir == Path("/var/lib/parvis")


def test_up_and_streamlit_run_use_the_same_streamlit_options():
    from console import server

    local = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    flat = {f"{section}.{key}": value for section, values in local.items() for key, value in values.items()}
    assert flat == server.STREAMLIT_OPTIONS
    assert server.script_path() == ROOT / "streamlit_app.py"


def test_the_console_shows_the_version(db_path, db, agents, monkeypatch):
    monkeypatch.setenv("PARVIS_DB", str(db_path))
    app = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=30)
    app.run()
    assert not app.exception
    assert f"Parvis {__version__}" in [c.value for c in app.sidebar.caption]


def test_an_unexpected_console_error_is_logged_with_the_reference_shown(monkeypatch, caplog):
    """st.App's hook goes through the pages' one funnel: the reference shown, the log line with the request id."""
    from console.ui import page

    shown: list[str] = []
    monkeypatch.setattr(page, "session_request_id", lambda: "0123456789abcdef")
    monkeypatch.setattr(page, "alert", lambda kind, text: shown.append(text))
    try:
        raise KeyError("boom")
    except KeyError as exc:
        with caplog.at_level(logging.ERROR, logger="parvis.ui"):
            assert page.on_script_error(exc) is True
    (text,) = shown
    found = re.search(r"ERR-[0-9A-F]{6}", text)
    assert found and "Erreur inattendue" in text and "boom" not in text
    ref = found.group(0)
    (record,) = caplog.records
    assert ref in record.getMessage() and record.request_id == "0123456789abcdef"
    assert record.fields == {"error_ref": ref} and record.exc_info[0] is KeyError


@pytest.mark.parametrize("module", ["console.cli", "console.worker", "console.commands.operations",
                                    "console.commands.core", "console.web.routes", "console.web.middleware"])
def test_commands_and_web_routes_load_without_streamlit(module):
    code = (f"import sys, importlib; importlib.import_module({module!r}); from console.cli import _load_commands; "
            "_load_commands(); assert 'streamlit' not in sys.modules, 'streamlit loaded'")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def test_load_commands_is_idempotent():
    _load_commands()
    _load_commands()
    assert {"backup", "restore", "migrate", "up"} <= set(cli.commands)
