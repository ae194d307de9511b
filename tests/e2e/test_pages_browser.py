"""End-to-end (Chromium, `parvis up`, the demo city): every page of every role, in French and accessible.

* Each page has its own title (« Calendrier · Parvis ») and is served as ``<html lang="fr">``.
* No English word of Parvis's own in the visible text: the words of :data:`ENGLISH` (what leaked before: widget
  defaults, counters, technical codes, « None », « nan », « NaT ») are refused, except inside Streamlit's own
  strings listed in :data:`STREAMLIT_OWN` (its front end has no translation: docs/accessibility.md) and residents'
  messages. Nor Streamlit's English placeholders of an empty choice (« Choose an option », « Choose options »…:
  :data:`STREAMLIT_PLACEHOLDERS`), in the visible text or in a field's ``placeholder`` attribute (each selectbox and
  multiselect passes a French one: tests/console/test_placeholders.py). No table cell says « None », « nan » or
  « NaT » (:func:`missing_cells`; the tables' true missing values, drawn « None » on the canvas:
  tests/console/test_missing_values.py).
* axe-core (npm registry, installed by `make browser`) on each page: 0 critical and 0 serious WCAG 2.1 A/AA
  violations; the other counts are printed.
* With ``PARVIS_SCREENSHOTS=DIR``, a 1280 px screenshot of each page is written there (docs/img is made so).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from console.messages.labels import CHOOSE_MANY, CHOOSE_ONE
from tests.e2e.server import ROOT, parvis_up

pytestmark = pytest.mark.e2e
AXE = ROOT / ".cache" / "axe-core" / "package" / "axe.min.js"
# Demo agents (connectors/demo/team.py, created in this order): a community manager, the director (every
# editorial page), legal staff and the administrator, each on the pages of their role.
ROLES = {"agent": (1, {"": "Boîte de réception", "moderation": "Modération", "calendrier": "Calendrier",
                       "charte": "Charte éditoriale"}),
         "direction": (3, {"": "Boîte de réception", "connexions": "Connexions", "approbations": "Approbations",
                           "charte": "Charte éditoriale", "calendrier": "Calendrier",
                           "tableau-de-bord": "Tableau de bord", "moderation": "Modération", "regles": "Règles",
                           "audit": "Audit et archives", "comptes": "Comptes"}),
         "juridique": (4, {"": "Boîte de réception", "moderation": "Modération", "audit": "Audit et archives"}),
         "administration": (5, {"comptes": "Comptes", "connexions": "Connexions", "regles": "Règles"})}
ENGLISH = {"the", "and", "with", "choose", "options", "upload", "browse", "drag", "drop", "none", "null", "nan",
           "nat", "true", "false", "limit", "per", "fetched", "inserted", "updated", "skipped", "revised", "worker",
           "submit", "delete", "cancel", "search", "results", "running", "loading", "error", "warning"}
STREAMLIT_OWN = ("Skip to main content", "Press Enter to apply", "Running...", "dd/mm/yyyy", "Show more",
                 "Show less", "View fewer", "View more")
# Streamlit's placeholders of a choice widget given none (frontend utils: selectbox, multiselect).
STREAMLIT_PLACEHOLDERS = ("Choose an option", "Choose options", "Choose or add an option", "Choose or add options",
                          "Add an option", "Add options", "No options to select")
# The placeholder attribute of every field of the page (a collapsed expander's included).
PLACEHOLDERS = """() => [...document.querySelectorAll('input[placeholder], textarea[placeholder]')]
  .map(e => e.getAttribute('placeholder'))"""
# The rendered text, without icon ligatures (« calendar_month »), residents' messages (st.text) and tables' canvas.
VISIBLE_TEXT = """() => {
  const hidden = [...document.querySelectorAll(
      '[data-testid="stIconMaterial"], [data-testid="stText"], [data-testid="stDataFrame"]')];
  const before = hidden.map(e => e.style.display);
  hidden.forEach(e => { e.style.display = 'none'; });
  const text = document.body.innerText;
  hidden.forEach((e, i) => { e.style.display = before[i]; });
  return text;
}"""


# Tables draw on a canvas: their accessible copy (one <td> per visible cell) gives the text. A cell written
# « None », « nan », « NaT » by Parvis is refused here; a true missing value (drawn « None » by Streamlit, empty in
# that copy, like an empty string) is refused by tests/console/test_missing_values.py on the tables' data.
GRID_CELLS = """() => [...document.querySelectorAll('[data-testid="stDataFrame"]')].filter(g => g.offsetParent)
  .map(g => ({headers: [...g.querySelectorAll('th')].map(th => th.innerText.trim()),
              cells: [...g.querySelectorAll('td')].map(td => [td.cellIndex, td.innerText.trim()])}))"""
MISSING = {"none", "nan", "nat", "<na>", "null"}


def missing_cells(grids: list[dict]) -> list[str]:
    """The columns of the read-only tables where a cell shows a missing value (« None », « nan », « NaT »…)."""
    found = []
    for grid in grids:
        for index, text in grid["cells"]:
            if text.lower() in MISSING:
                header = grid["headers"][index] if 0 <= index < len(grid["headers"]) else f"colonne {index}"
                found.append(f"{header}: {text!r}")
    return sorted(set(found))


def english_words(text: str) -> set[str]:
    """The refused English words left in ``text`` once Streamlit's own strings are taken out."""
    for own in STREAMLIT_OWN:
        text = text.replace(own, " ")
    return {w for w in re.findall(r"[A-Za-z]+", text) if w.lower() in ENGLISH}


def english_placeholders(texts: list[str]) -> list[str]:
    """Streamlit's English placeholders found in ``texts`` (visible text, placeholder attributes)."""
    return sorted({p for text in texts for p in STREAMLIT_PLACEHOLDERS if p.lower() in text.lower()})


def test_english_words_are_found():
    assert english_words("Choose options · fetched : 3 · None") == {"Choose", "options", "fetched", "None"}
    assert english_words("Publié le — · NaT · nan") == {"NaT", "nan"}
    assert missing_cells([{"headers": ["Scrutin", "2d tour"], "cells": [[0, "Municipales"], [1, "None"], [1, ""]]},
                          {"headers": ["Auteur"], "cells": [[0, "NaT"], [0, "—"]]}]) == [
        "2d tour: 'None'", "Auteur: 'NaT'"]
    assert not english_words("Skip to main content · Publication parue · Paris")
    assert english_placeholders(["Plateforme\nChoose an option", "Choisir…", "choose options"]) == [
        "Choose an option", "Choose options"]
    assert english_placeholders(["No options to select", "DD/MM/YYYY – DD/MM/YYYY"]) == ["No options to select"]
    assert not english_placeholders([CHOOSE_ONE, CHOOSE_MANY, "Toutes", "mots du message…"])
    assert not english_words(f"{CHOOSE_ONE} · {CHOOSE_MANY}")  # the catalogue's own pass the word scan too


def _axe(page) -> list[dict]:
    page.evaluate(AXE.read_text(encoding="utf-8"))
    return page.evaluate("""async () => {
      const r = await axe.run(document, {runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']});
      return r.violations.map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.length}));
    }""")


def test_every_page_is_french_titled_and_accessible(browser, tmp_path):
    if not AXE.is_file():
        pytest.fail(f"{AXE} missing: run `make browser` (axe-core from the npm registry)")
    db_path = tmp_path / "data" / "parvis.db"
    db_path.parent.mkdir(parents=True)
    subprocess.run([sys.executable, "-m", "console", "demo", "--days", "5"], cwd=ROOT, check=True,
                   capture_output=True, env={**os.environ, "PARVIS_DB": str(db_path),
                                              "PARVIS_DATA_DIR": str(db_path.parent)})
    shots = os.environ.get("PARVIS_SCREENSHOTS")
    problems: list[str] = []
    report: list[str] = []
    with parvis_up(db_path) as url:
        for role, (agent_id, pages) in ROLES.items():
            context = browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True)  # axe inline
            context.add_cookies([{"name": "parvis_agent", "value": str(agent_id), "url": url}])
            page = context.new_page()
            for path, title in pages.items():
                page.goto(f"{url}/{path}", wait_until="domcontentloaded")
                page.locator("h1").filter(has_text=title).first.wait_for(timeout=60_000)
                time.sleep(3)  # charts and tables after the title
                where = f"{role} /{path}"
                if page.title() != f"{title} · Parvis":
                    problems.append(f"{where}: title {page.title()!r}")
                if page.evaluate("document.documentElement.lang") != "fr":
                    problems.append(f"{where}: lang is not fr")
                if page.locator("[data-testid='stException']").count():
                    problems.append(f"{where}: an exception is shown")
                visible = page.evaluate(VISIBLE_TEXT)
                placeholders = page.evaluate(PLACEHOLDERS)
                leaks = english_words(visible) | english_words(" · ".join(placeholders))
                if leaks:
                    problems.append(f"{where}: English words {sorted(leaks)}")
                defaults = english_placeholders([visible, *placeholders])
                if defaults:
                    problems.append(f"{where}: Streamlit's English placeholders {defaults}")
                missing = missing_cells(page.evaluate(GRID_CELLS))
                if missing:
                    problems.append(f"{where}: missing values shown in tables {missing}")
                violations = _axe(page)
                bad = [v for v in violations if v["impact"] in ("critical", "serious")]
                if bad:
                    problems.append(f"{where}: axe {bad}")
                report.append(f"{where}: axe {[(v['id'], v['impact'], v['nodes']) for v in violations]}")
                if shots:
                    Path(shots).mkdir(parents=True, exist_ok=True)
                    page.screenshot(path=str(Path(shots) / f"{role}-{path or 'boite-de-reception'}.png"))
            context.close()
    print("\n".join(report))
    assert not problems, "\n".join(problems)
