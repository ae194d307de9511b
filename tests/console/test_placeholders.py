"""Every choice widget of the console says its placeholder in French.

Streamlit's own placeholder is English (« Choose an option », « Choose options », « No options to select »): each
``st.selectbox`` / ``st.multiselect`` call of the UI (``console/ui/``, ``streamlit_app.py``; ``st.`` or a column,
``c1.selectbox(...)``) passes ``placeholder=`` — the catalogue's ``CHOOSE_ONE`` / ``CHOOSE_MANY``
(console/messages/labels.py) or a filter's own word (« Toutes »). The browser scan (tests/e2e/test_pages_browser.py)
refuses the English ones on every page. The scan is run on injected snippets too, so that it cannot stop biting.
"""

from __future__ import annotations

import ast
from pathlib import Path

from console.messages.labels import CHOOSE_MANY, CHOOSE_ONE

ROOT = Path(__file__).resolve().parents[2]
CHOICE_WIDGETS = ("selectbox", "multiselect")


def missing_placeholders(source: str, name: str = "<snippet>") -> list[str]:
    """``name:line widget`` for each choice-widget call without a non-empty ``placeholder=``."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr in CHOICE_WIDGETS):
            continue
        given = next((k.value for k in node.keywords if k.arg == "placeholder"), None)
        empty = isinstance(given, ast.Constant) and given.value in (None, "")
        unpacked = any(k.arg is None for k in node.keywords)  # **kwargs: cannot be read, refused
        if given is None or empty or unpacked:
            found.append(f"{name}:{node.lineno} {node.func.attr}")
    return found


def _ui_files() -> list[Path]:
    return [*sorted((ROOT / "console" / "ui").rglob("*.py")), ROOT / "streamlit_app.py"]


def test_every_choice_widget_passes_a_placeholder():
    problems = [p for f in _ui_files()
                for p in missing_placeholders(f.read_text(encoding="utf-8"), str(f.relative_to(ROOT)))]
    assert not problems, "pass placeholder=CHOOSE_ONE / CHOOSE_MANY (console/messages/labels.py):\n" + "\n".join(
        problems)


def test_the_scan_sees_the_calls_it_must_refuse():
    snippet = """
import streamlit as st
st.selectbox("Plateforme", ["x"])
c1.multiselect("Comptes", names, key="k")
st.selectbox("Rôle", roles, placeholder="")
st.multiselect("Jours", days, placeholder=None)
st.selectbox("Tri", orders, **extra)
st.selectbox("Statut", statuses, placeholder=CHOOSE_ONE)
c2.multiselect("Plateforme", platforms, placeholder="Toutes")
st.radio("Vue", modes)
"""
    assert missing_placeholders(snippet) == ["<snippet>:3 selectbox", "<snippet>:4 multiselect",
                                             "<snippet>:5 selectbox", "<snippet>:6 multiselect",
                                             "<snippet>:7 selectbox"]


def test_the_placeholders_are_french():
    for text in (CHOOSE_ONE, CHOOSE_MANY):
        assert text.strip() and not {"choose", "an", "option", "options"} & set(text.lower().split())
    assert CHOOSE_ONE != CHOOSE_MANY
