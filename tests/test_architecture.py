"""Architecture guards: layers, Streamlit only in the UI, the UI through services, SQL only in core/, CLI help,
documented audit events.

The import guards read the source (AST), so imports inside functions and ``importlib.import_module("...")`` /
``__import__("...")`` string imports count too; each guard is also run on injected violating snippets, so a guard
that stops biting fails here.
"""

from __future__ import annotations

import ast
import functools
import re
import subprocess
import sys
from collections import deque
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LAYERS = {"core": set(), "connectors": {"core"}, "moderation": {"core"}, "editorial": {"core"},
          "services": {"core", "connectors", "moderation", "editorial", "services"}}
PROJECT_PACKAGES = {"core", "connectors", "moderation", "editorial", "services", "console"}
SQL = re.compile(r"\b(SELECT\s+.+\s+FROM|INSERT\s+(OR\s+\w+\s+)?INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM|CREATE\s+"
                 r"(TABLE|INDEX|TRIGGER))\b", re.IGNORECASE)
# The UI (console/ui/, streamlit_app.py, and console/server.py, the ASGI server that wraps it in st.App) reaches
# connectors and the repositories through services/ only.
UI_FORBIDDEN = ("connectors", "core.repo")
UI_ENTRIES = ("streamlit_app.py", "console/server.py")
# Entry points that must run without Streamlit (CLI, worker, jobs, benchmarks, and the web routes and logging the
# server uses: plain Starlette), whatever they import, even lazily.
HEADLESS = ("console/cli.py", "console/commands", "console/worker.py", "console/jobs", "console/bench",
            "console/web", "console/logs.py")
# The one way from a headless entry point into the UI side: `up` (console/commands/core.py) imports the server
# inside its own body, so that no other command loads Streamlit. (module, function, imported module)
LAZY_UI_IMPORTS = {("console.commands.core", "up", "console.server")}


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


# ---- static import scanner -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Imported:
    """One import found in a module: a dotted name, or (``computed``) a name known only by its constant prefix."""

    name: str
    line: int
    computed: bool = False
    function: str = ""  # the innermost function whose body holds the import ("": module level)

    def hits(self, forbidden: str) -> bool:
        """Whether this import is, or may be, ``forbidden`` or one of its submodules."""
        if self.computed:  # f"pkg.{x}" may be any module starting with "pkg."; a bare variable may be anything
            return forbidden.startswith(self.name) or self.name.startswith(forbidden + ".")
        return self.name == forbidden or self.name.startswith(forbidden + ".")

    def __str__(self) -> str:
        return f"line {self.line}: " + (f"computed import {self.name or '?'}..." if self.computed else self.name)


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _absolute(name: str, level: int, module: str, is_package: bool) -> str:
    """``from .x import y`` as an absolute module name, seen from ``module``."""
    if not level:
        return name
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[:len(base) - (level - 1)]
    return ".".join([*base, name] if name else base)


def _dotted(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    return ""


def imports_of(path: Path, root: Path) -> list[Imported]:
    """Every module ``path`` imports: import statements anywhere (functions included), importlib and __import__."""
    # The headless walk reaches the same modules from every entry point: each text is parsed once per run (keyed
    # by its content, so a file a test rewrites is parsed again).
    return list(_imports_in(path.read_text(encoding="utf-8"), module_name(path, root), path.name == "__init__.py"))


@functools.lru_cache(maxsize=4096)
def _imports_in(text: str, module: str, is_package: bool) -> tuple[Imported, ...]:
    tree = ast.parse(text)
    loaders = {"__import__", "importlib.import_module"}
    for node in ast.walk(tree):  # aliases of the loaders: `from importlib import import_module as load`
        if isinstance(node, ast.ImportFrom) and node.module == "importlib":
            loaders.update(a.asname or a.name for a in node.names if a.name == "import_module")
        elif isinstance(node, ast.Import):
            loaders.update(f"{a.asname}.import_module" for a in node.names if a.name == "importlib" and a.asname)
    enclosing: dict[ast.AST, str] = {}
    for node in ast.walk(tree):  # ast.walk goes outside in: an inner function overrides its outer one
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            for inner in ast.walk(node):
                if inner is not node:
                    enclosing[inner] = node.name
    found: list[Imported] = []
    for node in ast.walk(tree):
        where = enclosing.get(node, "")
        if isinstance(node, ast.Import):
            found += [Imported(a.name, node.lineno, function=where) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(node.module or "", node.level, module, is_package)
            found.append(Imported(base, node.lineno, function=where))  # `from core import repo`: core and core.repo
            found += [Imported(f"{base}.{a.name}", node.lineno, function=where) for a in node.names if a.name != "*"]
        elif isinstance(node, ast.Call) and _dotted(node.func) in loaders:
            arg = node.args[0] if node.args else next((k.value for k in node.keywords if k.arg == "name"), None)
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                package = next((k.value.value for k in node.keywords if k.arg == "package"
                                and isinstance(k.value, ast.Constant) and isinstance(k.value.value, str)), module)
                level = len(arg.value) - len(arg.value.lstrip("."))
                found.append(Imported(_absolute(arg.value[level:], level, package, True), node.lineno, function=where))
            else:  # computed: only its constant prefix is known (f"console.commands.{name}" -> "console.commands.")
                prefix = ""
                if isinstance(arg, ast.JoinedStr):
                    for part in arg.values:
                        if not (isinstance(part, ast.Constant) and isinstance(part.value, str)):
                            break
                        prefix += part.value
                found.append(Imported(prefix, node.lineno, computed=True, function=where))
    return tuple(found)


def direct_violations(path: Path, root: Path, forbidden: tuple[str, ...]) -> list[str]:
    """Imports of ``path`` itself that are (or may be) one of ``forbidden``."""
    return [f"{path.relative_to(root)} {imp} ({bad})" for imp in imports_of(path, root) for bad in forbidden
            if imp.hits(bad)]


def _module_file(root: Path, name: str) -> Path | None:
    if not name:
        return None
    base = root.joinpath(*name.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file() and ".venv" not in candidate.relative_to(root).parts:
            return candidate
    return None


def _modules_under(root: Path, prefix: str) -> list[str]:
    """Project modules whose dotted name starts with ``prefix`` (the targets of a computed import)."""
    package = _module_file(root, prefix.rstrip("."))
    if package is None or package.name != "__init__.py":
        return []
    names = [module_name(p, root) for p in package.parent.rglob("*.py") if "__pycache__" not in p.parts]
    return [name for name in names if name.startswith(prefix)]


def reachable_violations(start: Path, root: Path, forbidden: str,
                         allowed: set[tuple[str, str, str]] | frozenset[tuple[str, str, str]] = frozenset(),
                         ) -> tuple[list[str], set[str]]:
    """Import chains from ``start`` through the project's own modules (lazy imports included) that reach
    ``forbidden``; and every project module the walk went through. An import listed in ``allowed`` as
    ``(module, function, imported)`` is not followed (see :data:`LAZY_UI_IMPORTS`)."""
    first = module_name(start, root)
    parent: dict[str, str | None] = {first: None}
    queue, problems = deque([first]), []

    def chain(name: str) -> str:
        names = []
        while name:
            names.append(name)
            name = parent[name] or ""
        return " -> ".join(reversed(names))

    while queue:
        current = queue.popleft()
        path = _module_file(root, current)
        if path is None:
            continue
        for imp in imports_of(path, root):
            if not imp.computed and (current, imp.function, imp.name) in allowed:
                continue
            if imp.hits(forbidden):
                problems.append(f"{chain(current)} -> {imp}")
                continue
            if imp.computed:
                targets = _modules_under(root, imp.name)
            else:  # importing a.b.c runs a/__init__ and a/b/__init__ too
                parts = imp.name.split(".")
                targets = [".".join(parts[:i]) for i in range(1, len(parts) + 1)]
            for target in targets:
                if target not in parent and _module_file(root, target) is not None:
                    parent[target] = current
                    queue.append(target)
    return problems, set(parent)


def ui_files(root: Path) -> list[Path]:
    files = [*sorted((root / "console" / "ui").rglob("*.py")), *(root / entry for entry in UI_ENTRIES)]
    return [p for p in files if p.is_file() and "__pycache__" not in p.parts]


def headless_files(root: Path) -> list[Path]:
    files: list[Path] = []
    for entry in HEADLESS:
        path = root / entry
        files += sorted(path.rglob("*.py")) if path.is_dir() else [path]
    return [p for p in files if p.is_file() and "__pycache__" not in p.parts]


def ui_problems(root: Path) -> list[str]:
    """UI modules importing connectors or the repositories themselves (they must call a service)."""
    return [problem for path in ui_files(root) for problem in direct_violations(path, root, UI_FORBIDDEN)]


def headless_problems(root: Path) -> tuple[list[str], set[str]]:
    """Import chains from the CLI, worker, jobs and benchmarks to Streamlit; and every module walked."""
    problems: list[str] = []
    walked: set[str] = set()
    for path in headless_files(root):
        found, seen = reachable_violations(path, root, "streamlit", LAZY_UI_IMPORTS)
        problems += found
        walked |= seen
    return problems, walked


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


def test_the_ui_goes_through_services_for_connectors_and_repositories():
    files = ui_files(ROOT)
    assert {ROOT / "console/ui/pages/inbox.py", ROOT / "streamlit_app.py", ROOT / "console/server.py"} <= set(files)
    assert len(files) > 30
    problems = ui_problems(ROOT)
    assert not problems, f"move these calls into a service (the UI imports services, never these): {problems}"


def test_cli_worker_jobs_and_benchmarks_never_import_streamlit_even_lazily():
    files = headless_files(ROOT)
    assert {ROOT / "console/cli.py", ROOT / "console/worker.py", ROOT / "console/jobs/publishing.py",
            ROOT / "console/bench/charter.py", ROOT / "console/commands/core.py", ROOT / "console/web/routes.py",
            ROOT / "console/jobs/backups.py", ROOT / "console/logs.py"} <= set(files)
    problems, walked = headless_problems(ROOT)
    assert not problems, f"Streamlit reached from a headless entry point: {problems}"
    # The walk follows lazy and computed imports into the rest of the project (cli.py loads its commands with
    # importlib.import_module(f"console.commands.{name}")).
    _, from_cli = reachable_violations(ROOT / "console/cli.py", ROOT, "streamlit", LAZY_UI_IMPORTS)
    assert {"console.commands.core", "console.commands.bench_sync"} <= from_cli
    assert "console.server" not in from_cli  # `up` loads it lazily, the one allowed way in
    # Without the exception, the walk does reach Streamlit through `up`: the exception is what lets it through.
    problems, _ = reachable_violations(ROOT / "console/commands/core.py", ROOT, "streamlit")
    assert problems and all("console.server" in p for p in problems), problems
    assert {"services.connections.ingest", "core.repo", "connectors.base"} <= walked


UI_VIOLATIONS = {
    "import": "import connectors.demo.connector\n",
    "from import": "from connectors.base import Connector\n",
    "repo package": "import core.repo\n",
    "repo from core": "from core import repo\n",
    "repo module": "from core.repo import reply_outbox as outbox_repo\n",
    "repo name": "from core.repo.inbox import get_item\n",
    "in a function": "def agents(db):\n    from core import repo\n\n    return repo.list_agents(db)\n",
    "importlib": "import importlib\n\nrepo = importlib.import_module('core.repo')\n",
    "import_module alias": "from importlib import import_module as load\n\nload('connectors.registry')\n",
    "importlib alias": "import importlib as il\n\nil.import_module('core.repo.agents')\n",
    "__import__": "def registry():\n    return __import__('connectors.registry')\n",
    "computed prefix": "import importlib\n\n\ndef part(name):\n"
                       "    return importlib.import_module(f'core.repo.{name}')\n",
    "computed name": "import importlib\n\n\ndef part(name):\n    return importlib.import_module(name)\n",
}
UI_VIOLATIONS_WHERE = ["console/ui/pages/inbox.py", "console/ui/inbox/composer.py", *UI_ENTRIES]
CLEAN_UI = "import streamlit as st\n\nfrom core.models import Agent\nfrom services.inbox import triage\n"


def _tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    return root


@pytest.mark.parametrize("where", UI_VIOLATIONS_WHERE)
@pytest.mark.parametrize("kind", sorted(UI_VIOLATIONS))
def test_the_ui_guard_catches_each_kind_of_import(tmp_path, kind, where):
    _tree(tmp_path, {"console/ui/pages/clean.py": CLEAN_UI, where: CLEAN_UI + UI_VIOLATIONS[kind]})
    problems = ui_problems(tmp_path)
    assert problems and all(Path(where).as_posix() in p for p in problems), problems


def test_the_ui_guard_lets_services_and_models_through(tmp_path):
    _tree(tmp_path, {"console/ui/pages/clean.py": CLEAN_UI, "streamlit_app.py": CLEAN_UI,
                     "console/ui/deps.py": "from core.db import open_db\nfrom services.accounts import users\n"})
    assert ui_problems(tmp_path) == []


HEADLESS_VIOLATIONS = {
    "import": {"console/cli.py": "import streamlit as st\n"},
    "from import": {"console/worker.py": "from streamlit import session_state\n"},
    "submodule": {"console/jobs/publishing.py": "import streamlit.components.v1 as components\n"},
    "in a function": {"console/commands/core.py": "def up():\n    import streamlit\n"},
    "importlib": {"console/bench/charter.py": "import importlib\n\nimportlib.import_module('streamlit')\n"},
    "__import__": {"console/cli.py": "def web():\n    return __import__('streamlit.web.cli')\n"},
    "computed prefix": {"console/commands/x.py": "import importlib\n\nimportlib.import_module(f'streamlit.{1}')\n"},
    "computed name": {"console/worker.py": "import importlib\n\n\ndef load(n):\n    importlib.import_module(n)\n"},
    "through a UI module": {"console/cli.py": "def view():\n    from console.ui import deps\n",
                            "console/ui/__init__.py": "", "console/ui/deps.py": "import streamlit as st\n"},
    "through a relative import": {"console/__init__.py": "", "console/worker.py": "from .helpers import tick\n",
                                  "console/helpers.py": "def tick():\n    import streamlit\n"},
    "through import_module": {"console/jobs/x.py": "import importlib\n\nimportlib.import_module('services.view')\n",
                              "services/__init__.py": "", "services/view.py": "import streamlit as st\n"},
    "through a computed import": {
        "console/cli.py": "import importlib\n\nfor name in ('a',):\n"
                          "    importlib.import_module(f'console.plugins.{name}')\n",
        "console/plugins/__init__.py": "", "console/plugins/a.py": "from streamlit import session_state\n"},
    "the web routes": {"console/web/routes.py": "from streamlit.starlette import App\n"},
    "the server from another command": {"console/commands/ops.py": "def backup():\n    from console import server\n",
                                        "console/server.py": "import streamlit\n"},
    "the server at module level": {"console/commands/core.py": "from console import server\n\n\ndef up():\n"
                                                                "    server.serve()\n",
                                   "console/server.py": "import streamlit\n"},
    "the server nested in up": {"console/commands/core.py": "def up():\n    def later():\n"
                                                             "        from console import server\n",
                                "console/server.py": "import streamlit\n"},
}
CLEAN_HEADLESS = {"console/cli.py": "import click\n\nfrom console import messages\n", "console/messages.py": "",
                  "console/worker.py": "def run():\n    from services.connections import ingest\n",
                  "services/connections/ingest.py": "import logging\n"}


@pytest.mark.parametrize("kind", sorted(HEADLESS_VIOLATIONS))
def test_the_streamlit_guard_catches_each_kind_of_import(tmp_path, kind):
    _tree(tmp_path, {**CLEAN_HEADLESS, **HEADLESS_VIOLATIONS[kind]})
    problems, _ = headless_problems(tmp_path)
    assert problems, kind
    if kind.startswith("through"):  # the report names the way in
        assert any(p.count(" -> ") >= 2 for p in problems), problems


def test_the_streamlit_guard_lets_a_clean_tree_through(tmp_path):
    _tree(tmp_path, CLEAN_HEADLESS)
    problems, walked = headless_problems(tmp_path)
    assert problems == [] and {"console.cli", "console.messages", "services.connections.ingest"} <= walked


def test_the_streamlit_guard_lets_up_load_the_server_lazily(tmp_path):
    _tree(tmp_path, {**CLEAN_HEADLESS, "console/commands/core.py": "def up():\n    from console import server\n\n"
                                                                   "    server.serve()\n",
                     "console/server.py": "import streamlit\n"})
    problems, walked = headless_problems(tmp_path)
    assert problems == [] and "console.server" not in walked


def test_in_console_only_the_ui_and_the_server_import_streamlit():
    for path in _py_files("console"):
        rel = path.relative_to(ROOT / "console")
        if rel.parts[0] == "ui" or rel.as_posix() == "server.py":  # server.py: st.App, imported lazily by `up`
            continue
        assert "streamlit" not in _imports(path), f"{path.relative_to(ROOT)} imports streamlit"


def test_layers_below_the_ui_run_without_streamlit():
    code = ("import sys, core.db, core.migrations, core.repo, core.audit, services.inbox.triage, "
            "services.connections.ingest, services.connections.importer, connectors.base, console.cli, console.worker; "
            "assert 'streamlit' not in sys.modules, 'streamlit loaded'")
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


def test_no_page_file_shadows_a_top_level_package():
    """A page run on its own (AppTest.from_file, `streamlit run console/ui/pages/x.py`) puts its folder first on
    sys.path: a page named like one of Parvis's packages (``moderation.py``) then hides that package from every
    import that follows, and the page fails with an ImportError depending on what was imported before it."""
    packages = {p.name for p in ROOT.iterdir() if (p / "__init__.py").is_file()}
    pages = {p.stem for p in (ROOT / "console" / "ui" / "pages").glob("*.py")}
    assert packages, "no package found at the repository root"
    assert not pages & packages, f"pages named like top-level packages: {sorted(pages & packages)}"
