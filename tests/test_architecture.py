"""Architecture guards: layers, Streamlit only in the UI, SQL only in core/, CLI help, documented audit events."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LAYERS = {"core": set(), "connectors": {"core"}, "moderation": {"core"}, "editorial": {"core"},
          "services": {"core", "connectors", "moderation", "editorial", "services"}}
PROJECT_PACKAGES = {"core", "connectors", "moderation", "editorial", "services", "console"}
SQL = re.compile(r"\b(SELECT\s+.+\s+FROM|INSERT\s+(OR\s+\w+\s+)?INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM|CREATE\s+"
                 r"(TABLE|INDEX|TRIGGER))\b", re.IGNORECASE)


def _py_files(package: str) -> list[Path]:
    return [p for p in (ROOT / package).rglob("*.py") if "__pycache__" not in p.parts]


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


@pytest.mark.parametrize("package", sorted(LAYERS))
def test_imports_point_downward(package):
    allowed = LAYERS[package] | {package}
    for path in _py_files(package):
        bad = (_imports(path) & PROJECT_PACKAGES) - allowed
        assert not bad, f"{path.relative_to(ROOT)} imports {sorted(bad)} (layer rule, see docs/architecture.md)"


def test_only_the_ui_imports_streamlit():
    for package in LAYERS:
        for path in _py_files(package):
            assert "streamlit" not in _imports(path), f"{path.relative_to(ROOT)} imports streamlit"


def test_in_console_only_the_ui_and_the_server_import_streamlit():
    for path in _py_files("console"):
        rel = path.relative_to(ROOT / "console")
        if rel.parts[0] == "ui" or rel.as_posix() == "server.py":  # server.py: st.App, imported lazily by `up`
            continue
        assert "streamlit" not in _imports(path), f"{path.relative_to(ROOT)} imports streamlit"


def test_layers_below_the_ui_run_without_streamlit():
    code = ("import sys, core.db, core.migrations, core.repo, core.audit, services.inbox.triage, services.connections.ingest, services.connections.importer, "
            "connectors.base, console.cli, console.worker; assert 'streamlit' not in sys.modules, 'streamlit loaded'")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def test_sql_lives_in_core_only():
    offenders = []
    for package in ("connectors", "moderation", "editorial", "services", "console"):
        for path in _py_files(package):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Constant) and isinstance(node.value, str) and SQL.search(node.value):
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    for path in [ROOT / "streamlit_app.py"]:
        if SQL.search(path.read_text(encoding="utf-8")):
            offenders.append(str(path))
    assert not offenders, f"SQL outside core/: {offenders}"


def test_every_cli_command_has_help():
    from click.testing import CliRunner

    from console.cli import _load_commands, cli

    _load_commands()
    runner = CliRunner()

    def walk(group, prefix):
        for name, cmd in group.commands.items():
            yield [*prefix, name], cmd
            if hasattr(cmd, "commands"):
                yield from walk(cmd, [*prefix, name])

    seen = []
    for path, cmd in walk(cli, []):
        result = runner.invoke(cli, [*path, "--help"])
        assert result.exit_code == 0, (path, result.output)
        assert cmd.help, f"command {' '.join(path)} has no help text"
        if "--db" not in result.output and not hasattr(cmd, "commands"):
            pytest.fail(f"command {' '.join(path)} has no --db option")
        seen.append(" ".join(path))
    for required in ("init", "demo", "import", "sync", "worker", "bench"):
        assert required in seen


def test_every_audit_event_is_documented():
    from core.audit import event_classes

    doc = (ROOT / "docs" / "audit-events.md").read_text(encoding="utf-8")
    missing = [cls.name for cls in event_classes() if f"`{cls.name}`" not in doc]
    assert not missing, f"document these audit events in docs/audit-events.md: {missing}"
