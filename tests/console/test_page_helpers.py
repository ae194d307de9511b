"""console/ui/page.py: the flash message shows residents' text literally (escaped once, when shown), the action
runner flashes the French outcome, and every page goes through the one preamble and the one flash helper."""

from __future__ import annotations

import ast
import html
import re
from pathlib import Path

import pytest
from markdown_it import MarkdownIt
from streamlit.testing.v1 import AppTest

from core import repo
from tests.conftest import make_mention

ROOT = Path(__file__).resolve().parents[2]
UI = ROOT / "console" / "ui"
ENTRYPOINT = str(ROOT / "streamlit_app.py")
RESIDENT = "**bold** <b>x</b>"
# CommonMark with raw HTML allowed: the worst case for a message that was not escaped.
MARKDOWN = MarkdownIt("commonmark", {"html": True}).enable(["strikethrough", "table"])


def shown(value: str) -> str:
    """What a reader sees of an alert's Markdown ``value``: asserts it has no markup, returns its text."""
    rendered = MARKDOWN.render(value).strip()
    assert rendered.startswith("<p>") and rendered.endswith("</p>"), rendered
    inner = rendered[3:-4]
    assert not re.search(r"<[a-z/]", inner), f"rendered as markup: {rendered}"
    return html.unescape(inner)


def _flash_script() -> None:
    import streamlit as st

    from console.ui import page

    page.show_flash()
    st.button("Agir", key="act",
              on_click=lambda: page.flash("ok", f"Étiquette « {st.session_state['said']} » ajoutée."))


def _run_script() -> None:
    import streamlit as st

    from console.ui import page
    from core.errors import ValidationError

    def refuse(db, now):  # a service refusing with a message that quotes the resident
        raise ValidationError(reason="status_unknown", status=st.session_state["said"])

    def accept(db, now):
        return st.session_state["said"]

    page.show_flash()
    st.button("Refusé", key="refuse", on_click=page.run, args=(refuse, "jamais affiché"))
    st.button("Accepté", key="accept", on_click=page.run, args=(accept, lambda said: f"Reçu : {said}"))


def test_the_flash_shows_a_residents_markup_literally_and_once():
    app = AppTest.from_function(_flash_script, default_timeout=30)
    app.session_state["said"] = RESIDENT
    app.run()
    assert not app.success
    app.button(key="act").click().run()
    assert [shown(s.value) for s in app.success] == [f"Étiquette « {RESIDENT} » ajoutée."]
    app.run()
    assert not app.success  # shown once


def test_run_flashes_the_refusal_and_the_success_escaped(db_path, db, monkeypatch):
    monkeypatch.setenv("PARVIS_DB", str(db_path))
    app = AppTest.from_function(_run_script, default_timeout=30)
    app.session_state["said"] = RESIDENT
    app.run()
    app.button(key="refuse").click().run()
    assert not app.exception
    assert [shown(e.value) for e in app.error] == [f"Statut inconnu : « {RESIDENT} »."]
    assert not app.success
    app.button(key="accept").click().run()
    assert [shown(s.value) for s in app.success] == [f"Reçu : {RESIDENT}"] and not app.error


def test_an_action_on_a_real_page_flashes_the_agents_text_literally(db_path, db, agents, now, monkeypatch):
    monkeypatch.setenv("PARVIS_DB", str(db_path))
    repo.upsert_mentions(db, [make_mention("Bonjour", pid="m1")], now=now)
    app = AppTest.from_file(ENTRYPOINT, default_timeout=30).run()
    app.selectbox(key="sidebar_agent").select(agents["julie"].id).run()
    app.session_state["inbox_selected"] = "x:m1"
    app.run()
    app.text_input(key="tag_x:m1").input(RESIDENT).run()
    assert repo.get_item(db, "x:m1").tags == (RESIDENT,)
    assert [shown(s.value) for s in app.success] == [f"Étiquette « {RESIDENT} » ajoutée."]


def _ui_modules() -> list[Path]:
    return sorted(p for p in UI.rglob("*.py") if "__pycache__" not in p.parts)


def _docstrings(tree: ast.AST) -> set[int]:
    owners = [n for n in ast.walk(tree) if isinstance(n, ast.Module | ast.FunctionDef | ast.ClassDef)]
    return {id(o.body[0].value) for o in owners
            if o.body and isinstance(o.body[0], ast.Expr) and isinstance(o.body[0].value, ast.Constant)}


def test_only_the_page_module_keeps_flash_messages():
    """No other session key, constant or helper for flash messages: page.flash / page.show_flash only."""
    offenders = []
    for path in _ui_modules():
        if path == UI / "page.py":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        docs = _docstrings(tree)
        for node in ast.walk(tree):
            where = f"{path.relative_to(ROOT)}:{getattr(node, 'lineno', '?')}"
            if (isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docs
                    and "flash" in node.value.lower()):
                offenders.append(f"{where} {node.value!r}")
            elif isinstance(node, ast.Name) and "flash" in node.id.lower():
                offenders.append(f"{where} {node.id}")
            elif isinstance(node, ast.Attribute) and "flash" in node.attr.lower() and not (
                    isinstance(node.value, ast.Name) and node.value.id == "page"):
                offenders.append(f"{where} .{node.attr}")
            elif isinstance(node, ast.FunctionDef) and "flash" in node.name.lower():
                offenders.append(f"{where} def {node.name}")
    assert not offenders, f"flash messages outside console/ui/page.py: {offenders}"


@pytest.mark.parametrize("path", sorted((UI / "pages").glob("[!_]*.py")), ids=lambda p: p.stem)
def test_every_page_starts_with_the_one_preamble(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call)]
    assert any(isinstance(c.func, ast.Attribute) and c.func.attr == "preamble" for c in calls), path.name
    assert not any(isinstance(c.func, ast.Attribute) and c.func.attr == "title" for c in calls), \
        f"{path.name}: the title comes from page.preamble"
