"""No table of any page shows a missing value (issue #17): Streamlit draws a null cell (None, NaN, NaT) as « None »
on the grid's canvas, which the browser scan (tests/e2e/test_pages_browser.py) cannot read; here every page of the
demo city is run through AppTest and the data of each table is checked: no null, no « None »/« nan »/« NaT » text."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from console.ui.deps import AGENT_KEY
from core import repo
from core.config import Settings
from core.models import Role
from services.connections import demo

ROOT = Path(__file__).resolve().parents[2]
PAGES = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "console" / "ui" / "pages").glob("*.py")
               if p.stem not in ("__init__", "sign_in"))
WORDS = {"none", "nan", "nat", "<na>", "null"}


def missing_in(frame: pd.DataFrame) -> list[str]:
    """The columns of ``frame`` holding a null or a « None »-like text."""
    out = []
    for column in frame.columns:
        values = frame[column]
        if values.isna().any() or values.map(lambda v: isinstance(v, str) and v.strip().lower() in WORDS).any():
            out.append(str(column))
    return out


def test_missing_in_finds_nulls_and_words():
    frame = pd.DataFrame([{"a": None, "b": "nan", "c": "—", "d": pd.NaT}, {"a": "x", "b": "y", "c": "", "d": pd.NaT}])
    assert missing_in(frame) == ["a", "b", "d"]


@pytest.fixture(scope="module")
def demo_city(tmp_path_factory):
    from core.db import open_db

    path = tmp_path_factory.mktemp("missing") / "parvis.db"
    db = open_db(path)
    demo.load_demo(db, Settings(data_dir=path.parent, db_path=path, values={}), now=pd.Timestamp.now(tz="UTC")
                   .to_pydatetime(), days=3)
    roles = {a.role: a.id for a in repo.list_agents(db)}
    db.close()
    return path, roles


@pytest.mark.parametrize("role", [Role.DIRECTOR, Role.LEGAL, Role.ADMIN])
def test_no_table_shows_a_missing_value(demo_city, role, monkeypatch):
    path, roles = demo_city
    monkeypatch.setenv("PARVIS_DB", str(path))
    monkeypatch.setenv("PARVIS_DATA_DIR", str(path.parent))
    problems, checked = [], 0
    for page in PAGES:
        app = AppTest.from_file(str(ROOT / page), default_timeout=60)
        app.session_state[AGENT_KEY] = roles[role]
        app.run()
        assert not app.exception, (page, app.exception)
        for element in [*app.dataframe, *app.table]:
            frame = element.value
            if isinstance(frame, pd.DataFrame):
                checked += 1
                problems += [f"{page}: {c}" for c in missing_in(frame)]
    assert checked >= (5 if role is Role.DIRECTOR else 1), checked  # the tables were there to check
    assert not problems, problems
