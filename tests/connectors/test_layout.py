"""Every connector folder has the same named modules for the same jobs (docs/decisions/0071, docs/connectors.md).

Required in ``connectors/<platform>/``: ``connector.py`` (the class of the contract), ``normalize.py`` (pure:
platform JSON → Mention), ``errors.py`` (platform errors → core.errors), ``lookups.py`` (finding what an uncertain
write did, or saying why there is no lookup). Anything else is an extra declared below with its job. SDKs are
imported at the edge only: ``connector.py``, ``errors.py`` and the shared transport.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import subprocess
import sys
from pathlib import Path

import pytest

from connectors import registry

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "connectors"
PLATFORMS = tuple(spec.name for spec in registry.SPECS)
REQUIRED = ("connector", "normalize", "errors", "lookups")
EXTRAS = {  # module -> its job; a new extra is declared here and in docs/connectors.md
    "x": {"usage": "what each X call bills (pay-per-usage), for the budget service"},
    "facebook": {"sync": "the Page pass: which Graph pages to read, what is new, edited, hidden or gone",
                 "webhooks": "what a Page feed webhook change points to, read by id",
                 "conversations": "Messenger and Instagram Direct: Conversations API in, Send API out (issue #20)"},
    "instagram": {"sync": "the account pass: comments on recent media and photo tags, edits and hides",
                  "publish": "image posts and carousels through media containers",
                  "mentions": "@mentions pushed by webhook: read and answered",
                  "webhooks": "what a comments webhook change points to, read by id"},
    "mastodon": {"sync": "edit histories, the re-check of statuses already taken (edits, deletions), thread roots",
                 "publish": "image upload for posts",
                 "stream": "the user notification stream (Server-Sent Events)",
                 "direct": "direct statuses as private conversations, answered only to their participants"},
    "bluesky": {"publish": "image checks and the images embed of posts",
                "blocks": "ban and unban through block records",
                "chat": "chat.bsky.convo through the PDS's chat proxy: private conversations (issue #20)"},
    "demo": {"generator": "the simulated city's stream", "timeline": "when things happen in the city",
             "threads": "the conversations of one time slot", "textgen": "how residents write",
             "data": "the city's texts and cast (TOML files)", "team": "the communication team",
             "outbox": "what Parvis 'sent' to the sandbox",
             "private": "the city's private conversations (issue #20)"},
}
LOOKUPS = ("find_published", "find_reply", "act_applied")
SDKS = {"tweepy", "facebook", "pyfacebook", "mastodon", "atproto", "atproto_client", "atproto_core", "requests",
        "httpx", "urllib3", "oauthlib", "requests_oauthlib"}
EDGE = {"connector", "errors"}  # the platform modules allowed to import an SDK
SHARED_TRANSPORT = {"http.py", "graph/client.py", "graph/errors.py"}


def _modules(platform: str) -> set[str]:
    return {p.stem for p in (PACKAGE / platform).glob("*.py") if p.stem != "__init__"}


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def _sdk_imports(path: Path, seen: set[Path] | None = None) -> set[str]:
    """SDKs ``path`` imports, directly or through the connectors modules it imports."""
    seen = seen if seen is not None else set()
    if path in seen:
        return set()
    seen.add(path)
    found = set()
    for name in _imports(path):
        top = name.split(".")[0]
        if top in SDKS:
            found.add(name)
        elif top == "connectors":
            target = ROOT.joinpath(*name.split("."))
            for candidate in (target.with_suffix(".py"), target / "__init__.py"):
                if candidate.is_file():
                    found |= _sdk_imports(candidate, seen)
    return found


def test_the_platform_folders_are_the_registered_connectors():
    folders = {p.name for p in PACKAGE.iterdir() if (p / "connector.py").is_file()}
    assert folders == set(PLATFORMS) == set(EXTRAS)


@pytest.mark.parametrize("platform", PLATFORMS)
def test_every_platform_has_the_fixed_modules_and_only_declared_extras(platform):
    modules = _modules(platform)
    missing = [m for m in REQUIRED if m not in modules]
    assert not missing, f"connectors/{platform}/ lacks {missing} (docs/connectors.md, adding a connector)"
    undeclared = modules - set(REQUIRED) - set(EXTRAS[platform])
    assert not undeclared, f"connectors/{platform}/{sorted(undeclared)}: declare the extra's job in EXTRAS"
    gone = set(EXTRAS[platform]) - modules
    assert not gone, f"EXTRAS lists connectors/{platform}/{sorted(gone)} that no longer exist"
    for module in modules:
        doc = ast.get_docstring(ast.parse((PACKAGE / platform / f"{module}.py").read_text(encoding="utf-8")))
        assert doc, f"connectors/{platform}/{module}.py says what it is for in its docstring"


@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("normalize.py")), ids=lambda p: str(p.relative_to(ROOT)))
def test_normalize_modules_import_no_sdk(path):
    assert not _sdk_imports(path), f"{path.relative_to(ROOT)} must stay pure (no SDK, no network)"


def test_normalize_modules_load_no_sdk_at_run_time():
    modules = [f"connectors.{p.parent.name}.normalize" if p.parent != PACKAGE else "connectors.normalize"
               for p in sorted(PACKAGE.rglob("normalize.py"))]
    code = (f"import sys, {', '.join(modules)}; loaded = sorted(m for m in sys.modules if m.split('.')[0] in "
            f"{sorted(SDKS)!r}); assert not loaded, loaded")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def test_sdks_are_imported_at_the_edge_only():
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE).as_posix()
        if relative in SHARED_TRANSPORT or (path.parent.name in PLATFORMS and path.stem in EDGE):
            continue
        direct = {n for n in _imports(path) if n.split(".")[0] in SDKS}
        assert not direct, f"connectors/{relative} imports {sorted(direct)}: SDK calls belong in connector.py, " \
                           "errors.py or the shared transport"


@pytest.mark.parametrize("platform", PLATFORMS)
def test_lookups_match_what_the_connector_offers(platform):
    lookups = importlib.import_module(f"connectors.{platform}.lookups")
    connector = importlib.import_module(f"connectors.{platform}.connector")
    spec = next(s for s in registry.SPECS if s.name == platform)
    classes = [c for _, c in inspect.getmembers(connector, inspect.isclass)
               if c.__module__ == connector.__name__ and getattr(c, "info", None) == spec.info()]
    assert len(classes) == 1, f"connectors/{platform}/connector.py defines the registered connector class"
    offered = {name for name in LOOKUPS if callable(getattr(lookups, name, None))}
    assert offered == {name for name in LOOKUPS if callable(getattr(classes[0], name, None))}
    if not offered:
        assert "no lookup" in (lookups.__doc__ or "").lower(), f"connectors/{platform}/lookups.py says why not"
